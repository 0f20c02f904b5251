// "My submissions": while a video's file is received or processed, ask the server for its
// status every few seconds, move its progress bar, and reload the page when its state changes.
(function () {
  'use strict'
  const PERIOD_MS = 4000

  function follow (element) {
    const bar = element.querySelector('[data-status-progress]')
    const label = element.querySelector('[data-status-label]')
    const poll = function () {
      fetch(element.dataset.statusUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (response) { return response.ok ? response.json() : null })
        .then(function (data) {
          if (data === null) return
          if (data.status !== element.dataset.status) { window.location.reload(); return }
          if (bar && data.progress !== null) bar.value = data.progress
          if (label) label.textContent = data.label
          if (data.moving) window.setTimeout(poll, PERIOD_MS)
        })
        .catch(function () { window.setTimeout(poll, PERIOD_MS * 3) })
    }
    window.setTimeout(poll, PERIOD_MS)
  }

  document.querySelectorAll('[data-status-url]').forEach(follow)
})()
