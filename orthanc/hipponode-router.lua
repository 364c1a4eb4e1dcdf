-- HippoNode router for Orthanc: when a study is stable, send the series the node's modules analyse to the HippoNode
-- modality: HippoCrop MR series (hippocampus volumetry) and frontal chest radiographs (chest X-ray classification).
--
-- Rules (each decision is logged as "HippoNode router: ..." in Orthanc's log):
--  * Hippocampus: series whose Modality is in SeriesModalities and whose SeriesDescription is in SeriesDescriptions
--    (case-insensitive); the node segments that crop, it does not need the full-brain series.
--  * Chest X-ray: series whose Modality is in ChestModalities (DX, CR) whose Body Part Examined contains one of
--    ChestBodyParts (or, when it is empty, whose series or study description does), and that hold at least one
--    instance whose View Position is in ChestViewPositions (PA, AP): a lateral-only series is not sent. The node
--    checks the same rules again per image and says why it took or left each one.
--  * Compressed images need no rule here: the node accepts uncompressed transfer syntaxes only, so Orthanc transcodes
--    them on sending (orthanc.json: TranscodeDicomProtocol, and AllowTranscoding on the hipponode modality).
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
local CHEST_MODALITIES = lowerSet(settings['ChestModalities'], { 'DX', 'CR' })
local CHEST_VIEWS = lowerSet(settings['ChestViewPositions'], { 'PA', 'AP' })
local CHEST_BODY_PARTS = {}
for _, v in ipairs(settings['ChestBodyParts'] or { 'chest', 'thorax', 'lung', 'cxr' }) do
   table.insert(CHEST_BODY_PARTS, string.lower(v))
end

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

local function mentionsChest(text)
   local lower = string.lower(text or '')
   for _, word in ipairs(CHEST_BODY_PARTS) do
      if string.find(lower, word, 1, true) then
         return true
      end
   end
   return false
end

-- The View Position of an instance; nil when absent (RestApiGet raises on a missing tag: pcall keeps the router alive).
local function viewPositionOf(instanceId)
   local ok, value = pcall(RestApiGet, '/instances/' .. instanceId .. '/content/0018-5101')
   if not ok or value == nil then
      return nil
   end
   return string.lower(trim(string.gsub(value, '%z', '')))
end

local function isHippocampusCandidate(series)
   local tags = series['MainDicomTags'] or {}
   return MODALITIES[string.lower(trim(tags['Modality']))] == true
      and DESCRIPTIONS[string.lower(trim(tags['SeriesDescription']))] == true
end

local function isChestCandidate(series, studyTags)
   local tags = series['MainDicomTags'] or {}
   if CHEST_MODALITIES[string.lower(trim(tags['Modality']))] ~= true then
      return false
   end
   local bodyPart = trim(tags['BodyPartExamined'])
   if bodyPart ~= '' then
      if not mentionsChest(bodyPart) then
         return false
      end
   elseif not (mentionsChest(tags['SeriesDescription']) or mentionsChest((studyTags or {})['StudyDescription'])) then
      return false
   end
   for _, instanceId in ipairs(series['Instances'] or {}) do
      if CHEST_VIEWS[viewPositionOf(instanceId) or ''] then
         return true
      end
   end
   return false
end

-- Which module a series is for ('hippocampus', 'chest-xray'), or nil. Derived objects (SEG, SR, SC) never are.
local function moduleFor(series, studyTags)
   if DERIVED_SOP_CLASSES[sopClassOf(series) or ''] then
      return nil
   end
   if isHippocampusCandidate(series) then
      return 'hippocampus'
   end
   if isChestCandidate(series, studyTags) then
      return 'chest-xray'
   end
   return nil
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
   local modules = {}
   for _, series in ipairs(seriesList) do
      local uid = trim((series['MainDicomTags'] or {})['SeriesInstanceUID'])
      if isProduced(series) then
         hasProduced = true
      elseif not routed[uid] then
         local module = moduleFor(series, tags)
         if module ~= nil then
            table.insert(toSend, series['ID'])
            table.insert(toSendUids, uid)
            modules[module] = (modules[module] or 0) + 1
         end
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
   local forWhat = {}
   for module, count in pairs(modules) do
      table.insert(forWhat, count .. ' for ' .. module)
   end
   table.sort(forWhat)
   log('study ' .. studyId .. ': sent ' .. #toSend .. ' series to ' .. MODALITY .. ' (' .. table.concat(forWhat, ', ') .. '; job ' .. job .. ')')
end
