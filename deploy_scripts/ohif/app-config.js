/** @type {AppTypes.Config} */
// OHIF 3.13 configuration for the HippoNode stack: one DICOMweb data source, Orthanc behind the same origin.
// nginx (deploy_scripts/ohif/nginx.conf.template, or the compose front proxy) serves this viewer and proxies
// /dicom-web/ and /wado to Orthanc, so no CORS is involved and the URLs below are relative.
window.config = {
  name: 'hipponode',
  routerBasename: null,
  extensions: [],
  modes: [],
  customizationService: {},
  showStudyList: true,
  maxNumberOfWebWorkers: 3,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: true,
  showLoadingIndicator: true,
  strictZSpacingForVolumeViewport: true,
  groupEnabledModesFirst: true,
  maxNumRequests: {
    interaction: 100,
    thumbnail: 5,
    prefetch: 25,
  },
  showErrorDetails: 'always',
  defaultDataSourceName: 'orthanc',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'orthanc',
      configuration: {
        friendlyName: 'HippoNode PACS (Orthanc)',
        name: 'orthanc',
        qidoRoot: '/dicom-web',
        wadoRoot: '/dicom-web',
        wadoUriRoot: '/wado',
        qidoSupportsIncludeField: true,
        supportsReject: false,
        imageRendering: 'wadors',
        thumbnailRendering: 'wadors',
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: false,
        supportsWildcard: true,
        staticWado: false,
        singlepart: 'bulkdata,video,pdf',
        omitQuotationForMultipartRequest: true,
        // Orthanc writes absolute BulkDataURIs from the Host header nginx forwards, i.e. this same origin.
        bulkDataURI: {
          enabled: true,
          relativeResolution: 'studies',
        },
      },
    },
  ],
};

// What a reader of HippoNode results should see first, which OHIF 3.13.2 does not do by itself. Nothing here changes
// data or overrides a reader's own choice: each adjustment is made once, when a view first appears, and only through
// the objects OHIF exposes on window (cornerstone, cornerstoneTools, services). If a later OHIF renames them, the
// adjustments silently stop and OHIF behaves as shipped.
//  1. Window: the series a HippoNode SEG or SR was made from is shown with the window HippoNode's report page uses,
//     its 1st to 99th percentile (over up to 64 of its images), instead of the window stored in its images, which
//     need not suit a derived crop (the shared test data's HippoCrop series store W 950 / L 470: one study comes out
//     mostly white, the other almost black).
//  2. SEG: OHIF opens a segmentation on the first slice (in display order) that holds any segment, which is usually
//     a sliver at the structure's edge. The view moves once to the slice with the largest segmented area.
//  3. SR: OHIF draws a TID 1500 SR's outlines only at the next render after the viewport learns which SR it shows, and
//     none comes when nothing moves; annotations are drawn again once the image is shown.
(function hipponodeViewerAdjustments() {
  const ready = () => window.cornerstone && window.cornerstoneTools && window.services && window.services.segmentationService;
  const start = () => {
    const cs = window.cornerstone;
    const tools = window.cornerstoneTools;
    const { segmentationService, displaySetService } = window.services;
    const Events = cs.Enums.Events;
    const placedSegmentations = new Set(); // "viewportId|segmentationId" already moved to their largest slice

    const viewportById = id => cs.getRenderingEngines().flatMap(e => e.getViewports()).find(v => v.id === id);
    const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))];

    // The series a HippoNode SEG or SR of the open studies was made from.
    function analysedSeries() {
      const uids = new Set();
      for (const displaySet of displaySetService.getActiveDisplaySets()) {
        const instance = displaySet.instance || displaySet.instances?.[0];
        if (instance?.Manufacturer !== 'HippoNode') continue;
        if (displaySet.referencedSeriesInstanceUID) uids.add(displaySet.referencedSeriesInstanceUID);
        for (const evidence of [].concat(instance.CurrentRequestedProcedureEvidenceSequence || [])) {
          for (const series of [].concat(evidence.ReferencedSeriesSequence || [])) uids.add(series.SeriesInstanceUID);
        }
      }
      return uids;
    }

    // Once per new stack in a viewport (setStack resets the window to the images' own), never on scrolling; left
    // alone when the window changed meanwhile (a reader's choice).
    async function windowAnalysedSeries(viewportId) {
      const viewport = viewportById(viewportId);
      if (!viewport || typeof viewport.getImageIds !== 'function') return;
      const imageIds = viewport.getImageIds();
      const series = cs.metaData.get('generalSeriesModule', imageIds[0])?.seriesInstanceUID;
      const stored = viewport.getProperties().voiRange;
      if (!series || !stored || !analysedSeries().has(series)) return;
      const step = Math.max(1, Math.ceil(imageIds.length / 64));
      const images = await Promise.all(imageIds.filter((_, i) => i % step === 0).map(id => cs.imageLoader.loadAndCacheImage(id)));
      const values = [];
      for (const image of images) {
        if (image.color) return;
        const data = image.getPixelData();
        const slope = image.preScale?.scaled ? 1 : (image.slope ?? 1);
        const intercept = image.preScale?.scaled ? 0 : (image.intercept ?? 0);
        const stride = Math.max(1, Math.ceil((data.length * images.length) / 1e6)); // a million values at most
        for (let i = 0; i < data.length; i += stride) values.push(data[i] * slope + intercept);
      }
      values.sort((x, y) => x - y);
      const low = percentile(values, 0.01);
      const high = percentile(values, 0.99);
      const now = viewport.getProperties().voiRange;
      if (!(high > low) || viewportById(viewportId) !== viewport || viewport.getImageIds()[0] !== imageIds[0]) return;
      if (now?.lower !== stored.lower || now?.upper !== stored.upper) return;
      viewport.setProperties({ voiRange: { lower: low, upper: high } });
      viewport.render();
    }

    function placeSegmentation(viewportId, segmentationId) {
      const key = `${viewportId}|${segmentationId}`;
      if (placedSegmentations.has(key)) return;
      const viewport = viewportById(viewportId);
      const labelmap = tools.segmentation.state.getSegmentation(segmentationId)?.representationData?.Labelmap;
      if (!viewport || !labelmap?.imageIds?.length || typeof viewport.getImageIds !== 'function') return;
      placedSegmentations.add(key);
      const shown = viewport.getImageIds();
      let best = -1;
      let bestArea = 0;
      for (const id of labelmap.imageIds) {
        const slice = cs.cache.getImage(id);
        if (!slice) continue;
        const data = slice.voxelManager ? slice.voxelManager.getScalarData() : slice.getPixelData();
        let area = 0;
        for (let i = 0; i < data.length; i++) if (data[i] !== 0) area++;
        const index = shown.indexOf(slice.referencedImageId);
        if (area > bestArea && index >= 0) {
          bestArea = area;
          best = index;
        }
      }
      if (best >= 0 && best !== viewport.getCurrentImageIdIndex()) viewport.setImageIdIndex(best);
    }

    // Each adjustment runs after OHIF's own handling of the same event (it sets the window and the first slice itself).
    const later = (milliseconds, adjust) => setTimeout(async () => {
      try {
        await adjust();
      } catch (err) {
        console.warn('hipponode viewer adjustment failed', err);
      }
    }, milliseconds);
    cs.eventTarget.addEventListener(Events.ELEMENT_ENABLED, evt => {
      const { element } = evt.detail;
      element.addEventListener(Events.VIEWPORT_NEW_IMAGE_SET, e => later(300, () => windowAnalysedSeries(e.detail.viewportId)));
      element.addEventListener(Events.STACK_NEW_IMAGE, e =>
        later(300, () => tools.utilities.triggerAnnotationRenderForViewportIds([e.detail.viewportId])));
    });
    segmentationService.subscribe(segmentationService.EVENTS.SEGMENTATION_REPRESENTATION_MODIFIED, ({ viewportId, segmentationId }) =>
      later(500, () => placeSegmentation(viewportId, segmentationId)));
  };
  const wait = setInterval(() => {
    if (ready()) {
      clearInterval(wait);
      start();
    }
  }, 200);
})();
