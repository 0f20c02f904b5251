// The upload page of a resident's video: Uppy's Dashboard sending the file with tus 1.0 to
// the project's own server, in chunks, resuming by itself after a dropped connection
// (retryDelays) and after a closed tab (Golden Retriever keeps the upload's state; tus finds
// the upload again from the file's fingerprint). Bundled by esbuild (`make bundle`) with
// Uppy's CSS; its settings come from the data attributes of #uppy (no inline script: CSP).
// The editors' page of the city's own videos uses it too: there #uppy names a form
// (data-form) whose named fields are sent as the upload's tus metadata (title, kind, …), and
// no submission.
import Uppy from '@uppy/core'
import Dashboard from '@uppy/dashboard'
import GoldenRetriever from '@uppy/golden-retriever'
import Tus from '@uppy/tus'
import English from '@uppy/locales/lib/en_US.js'
import French from '@uppy/locales/lib/fr_FR.js'

import '@uppy/core/css/style.min.css'
import '@uppy/dashboard/css/style.min.css'

// Waits between automatic retries of a failed request (ms): a weak 4G link comes back.
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 120000]

function csrfToken () {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/)
  return match ? decodeURIComponent(match[1]) : ''
}

// The named fields of the form the page ties to the upload (none: no extra metadata).
function formMeta (form) {
  if (!form) return {}
  const meta = {}
  for (const [name, value] of new FormData(form)) {
    if (name !== 'csrfmiddlewaretoken' && typeof value === 'string') meta[name] = value
  }
  return meta
}

function start (target) {
  const config = target.dataset
  const form = config.form ? document.getElementById(config.form) : null
  const base = config.submission ? { submission: config.submission } : {}
  const uppy = new Uppy({
    // One saved state per submission (or per page, data-uppy-id): a file picked for another
    // one is never resumed here.
    id: config.uppyId || `carillon-submission-${config.submission}`,
    locale: config.locale === 'fr' ? French : English,
    autoProceed: false,
    allowMultipleUploadBatches: false,
    restrictions: {
      maxNumberOfFiles: 1,
      maxFileSize: Number(config.maxBytes),
      allowedFileTypes: ['video/*'],
    },
    meta: { ...base, ...formMeta(form) },
    // The form as it is when the upload starts is what the server receives.
    onBeforeUpload: (files) => {
      const meta = formMeta(form)
      return Object.fromEntries(Object.entries(files).map(
        ([id, file]) => [id, { ...file, meta: { ...file.meta, ...meta } }]))
    },
  })
  if (form) {
    const sync = () => uppy.setMeta(formMeta(form))
    form.addEventListener('input', sync)
    form.addEventListener('change', sync)
    form.addEventListener('submit', (event) => event.preventDefault()) // Uppy sends, not the form
  }
  uppy.use(Dashboard, {
    inline: true,
    target,
    width: '100%',
    height: 420,
    note: config.note,
    proudlyDisplayPoweredByUppy: false,
    showProgressDetails: true,
    fileManagerSelectionType: 'files',
    theme: 'light',
  })
  uppy.use(Tus, {
    endpoint: config.endpoint,
    chunkSize: Number(config.chunkBytes),
    retryDelays: RETRY_DELAYS,
    withCredentials: true,
    removeFingerprintOnSuccess: true,
    allowedMetaFields: ['name', 'type', ...Object.keys(base), ...Object.keys(formMeta(form))],
    // Read at each request: the token may change (a login in another tab).
    headers: () => ({ 'X-CSRFToken': csrfToken() }),
  })
  uppy.use(GoldenRetriever)
  uppy.on('complete', (result) => {
    if (result.successful && result.successful.length > 0) {
      uppy.info(config.doneMessage, 'success', 4000)
      window.setTimeout(() => { window.location.assign(config.doneUrl) }, 2500)
    }
  })
  window.carillonUpload = uppy // for the tests and for debugging
}

const target = document.getElementById('uppy')
if (target) start(target)
