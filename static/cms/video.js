// The video page's player: hls.js where Media Source Extensions exist, native HLS otherwise
// (Safari, iOS). The playlist's URL comes from the element (no inline script: strict CSP).
(function () {
  "use strict";
  const video = document.getElementById("video-player");
  if (!video || !video.dataset.src) return;
  const source = video.dataset.src;
  if (window.Hls && window.Hls.isSupported()) {
    const hls = new window.Hls({ capLevelToPlayerSize: true });
    hls.on(window.Hls.Events.ERROR, function (_event, data) {
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else video.dataset.failed = data.details;
    });
    hls.loadSource(source);
    hls.attachMedia(video);
    window.carillonVideo = hls;
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = source;
  }
})();
