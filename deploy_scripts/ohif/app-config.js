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
