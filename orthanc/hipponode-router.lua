-- HippoNode router for Orthanc: when a study is stable, send its HippoCrop MR series to the HippoNode modality.
--
-- Rules (each decision is logged as "HippoNode router: ..." in Orthanc's log):
--  * Only series whose Modality is in SeriesModalities and whose SeriesDescription is in SeriesDescriptions
--    (case-insensitive) are sent; the node segments that crop, it does not need the full-brain series.
--  * Never anything we produced: Manufacturer = ProducerManufacturer or a description starting with
--    ProducerSeriesPrefix ("HippoNode SEG/SR/Report"); and never a SEG, SR or Secondary Capture object, whoever
--    made it. Other vendors' derived objects (e.g. an Imaging Biometrics SC series in TestVolumes/Study2) do not
--    mark a study as processed: only our own do.
--  * A series is sent at most once: its SeriesInstanceUID is recorded in the study's HippoNodeRouted metadata,
--    because OnStableStudy fires again when the node's results arrive in the same study.
--  * A study that already holds our output but has no routing record (metadata lost, results imported from
--    elsewhere) is left alone rather than risk a loop.
-- The store runs as an asynchronous Orthanc job; a failed one (node down) is listed in /jobs and can be
-- resubmitted with POST /jobs/{id}/resubmit.

local settings = GetOrthancConfiguration()['HippoNodeRouting'] or {}
local MODALITY = settings['Modality'] or 'hipponode'
local PRODUCER = settings['ProducerManufacturer'] or 'HippoNode'
local PRODUCER_PREFIX = settings['ProducerSeriesPrefix'] or 'HippoNode '
local METADATA = 'HippoNodeRouted'

local function lowerSet(list, default)
   local set = {}
   for _, v in ipairs(list or default) do
      set[string.lower(v)] = true
   end
   return set
end

local DESCRIPTIONS = lowerSet(settings['SeriesDescriptions'], { 'HippoCrop' })
local MODALITIES = lowerSet(settings['SeriesModalities'], { 'MR' })

-- SEG, the SR classes (Basic/Enhanced/Comprehensive/Comprehensive 3D) and the Secondary Capture classes: never
-- input to the segmentation, even when their series description says HippoCrop.
local DERIVED_SOP_CLASSES = {
   ['1.2.840.10008.5.1.4.1.1.66.4'] = true,
   ['1.2.840.10008.5.1.4.1.1.88.11'] = true,
   ['1.2.840.10008.5.1.4.1.1.88.22'] = true,
   ['1.2.840.10008.5.1.4.1.1.88.33'] = true,
   ['1.2.840.10008.5.1.4.1.1.88.34'] = true,
   ['1.2.840.10008.5.1.4.1.1.7'] = true,
   ['1.2.840.10008.5.1.4.1.1.7.1'] = true,
   ['1.2.840.10008.5.1.4.1.1.7.2'] = true,
   ['1.2.840.10008.5.1.4.1.1.7.3'] = true,
   ['1.2.840.10008.5.1.4.1.1.7.4'] = true,
}

local function trim(s)
   return (string.gsub(s or '', '^%s*(.-)%s*$', '%1'))
end

local function log(message)
   print('HippoNode router: ' .. message)
end

-- The SOP class of the series' first instance (Orthanc keeps it as instance metadata).
local function sopClassOf(series)
   local instances = series['Instances'] or {}
   if #instances == 0 then
      return nil
   end
   local value = RestApiGet('/instances/' .. instances[1] .. '/metadata/SopClassUid')
   return value and trim(value) or nil
end

local function isProduced(series)
   local tags = series['MainDicomTags'] or {}
   if trim(tags['Manufacturer']) == PRODUCER then
      return true
   end
   local description = trim(tags['SeriesDescription'])
   return string.sub(description, 1, string.len(PRODUCER_PREFIX)) == PRODUCER_PREFIX
end

local function isCandidate(series)
   local tags = series['MainDicomTags'] or {}
   return MODALITIES[string.lower(trim(tags['Modality']))] == true
      and DESCRIPTIONS[string.lower(trim(tags['SeriesDescription']))] == true
      and not DERIVED_SOP_CLASSES[sopClassOf(series) or '']
end

local function splitRecord(record)
   local set = {}
   for uid in string.gmatch(record or '', '[^,]+') do
      set[trim(uid)] = true
   end
   return set
end

function OnStableStudy(studyId, tags, metadata)
   local record = metadata and metadata[METADATA]
   local routed = splitRecord(record)
   local seriesList = ParseJson(RestApiGet('/studies/' .. studyId .. '/series'))
   local hasProduced = false
   local toSend = {}
   local toSendUids = {}
   for _, series in ipairs(seriesList) do
      local uid = trim((series['MainDicomTags'] or {})['SeriesInstanceUID'])
      if isProduced(series) then
         hasProduced = true
      elseif isCandidate(series) and not routed[uid] then
         table.insert(toSend, series['ID'])
         table.insert(toSendUids, uid)
      end
   end

   if #toSend == 0 then
      log('study ' .. studyId .. ': nothing to send' .. (hasProduced and ' (holds HippoNode output)' or ''))
      return
   end
   if hasProduced and record == nil then
      log('study ' .. studyId .. ': skipped, holds HippoNode output but no routing record')
      return
   end

   local answer = RestApiPost('/modalities/' .. MODALITY .. '/store',
      DumpJson({ Resources = toSend, Synchronous = false, Permissive = false }, true))
   if answer == nil then
      log('study ' .. studyId .. ': store to ' .. MODALITY .. ' could not be started')
      return
   end
   local job = ParseJson(answer)['ID'] or '?'
   for _, uid in ipairs(toSendUids) do
      routed[uid] = true
   end
   local all = {}
   for uid, _ in pairs(routed) do
      table.insert(all, uid)
   end
   table.sort(all)
   RestApiPut('/studies/' .. studyId .. '/metadata/' .. METADATA, table.concat(all, ','))
   log('study ' .. studyId .. ': sent ' .. #toSend .. ' series to ' .. MODALITY .. ' (job ' .. job .. ')')
end
