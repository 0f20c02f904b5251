/* Carillon TV player: hls.js (or native HLS), remote keys, now/next banner, EPG grid, clock,
 * ticker and weather from the channel's now/next events (/api/v1/channels/<slug>/now/events),
 * or by polling /api/v1/channels/<slug>/now where events are unavailable. Full screen on /tv/
 * (every channel, keys anywhere) or embedded in a page (one channel, keys when it has focus).
 * The banner shows the entry airing at the instant the viewer sees (the stream's program
 * date-time), not at the server's now. No dependency besides hls.js. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("tv-data").textContent);
  var labels = data.labels;
  var channels = data.channels;
  var $ = function (id) { return document.getElementById(id); };
  var video = $("tv-video");
  var root = $("tv-player");
  var embedded = Boolean(data.embedded);
  var NEXT_COUNT = 3;
  var state = {
    index: 0, hls: null, info: null, clockSkew: 0, pollTimer: null, reloadTimer: null,
    bannerTimer: null, lastMediaRecovery: 0, guideRow: 0, source: null, eventsTimer: null,
    shownKey: null, playing: null
  };
  window.carillonTv = state;  // for diagnostics and tests

  var timeFormat = new Intl.DateTimeFormat(data.language, {
    hour: "2-digit", minute: "2-digit", timeZone: data.time_zone
  });
  function hhmm(iso) { return timeFormat.format(new Date(iso)); }
  function serverNow() { return new Date(Date.now() + state.clockSkew); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  /* ---- Playback ------------------------------------------------------------------------ */
  function status(text) { var s = $("tv-status"); s.textContent = text || ""; s.hidden = !text; }

  function destroyPlayer() {
    if (state.hls) { state.hls.destroy(); state.hls = null; }
    video.removeAttribute("src");
  }

  function scheduleReload(delay) {
    if (state.reloadTimer) { return; }
    status(labels.reconnecting);
    state.reloadTimer = setTimeout(function () { state.reloadTimer = null; play(); }, delay || 5000);
  }

  function onHlsError(event, info) {
    if (!info.fatal) { return; }
    var Hls = window.Hls;
    if (info.type === Hls.ErrorTypes.NETWORK_ERROR) {
      status(labels.reconnecting);
      state.hls.startLoad();
      scheduleReload(6000);  // reload the source if loading does not resume by then
    } else if (info.type === Hls.ErrorTypes.MEDIA_ERROR
               && Date.now() - state.lastMediaRecovery > 10000) {
      state.lastMediaRecovery = Date.now();
      state.hls.recoverMediaError();
    } else {
      destroyPlayer();
      scheduleReload(4000);
    }
  }

  function play() {
    var channel = channels[state.index];
    if (state.reloadTimer) { clearTimeout(state.reloadTimer); state.reloadTimer = null; }
    destroyPlayer();
    if (!channel) { status(labels.no_channel); return; }
    var Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      state.hls = new Hls({ liveSyncDurationCount: 3, lowLatencyMode: false, backBufferLength: 30 });
      state.hls.on(Hls.Events.ERROR, onHlsError);
      state.hls.on(Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
      state.hls.loadSource(channel.master);
      state.hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = channel.master;
      video.play().catch(function () {});
    } else {
      status(labels.no_information);
    }
  }

  video.addEventListener("playing", function () { if (!state.reloadTimer) { status(""); } });
  video.addEventListener("error", function () { if (!state.hls) { scheduleReload(5000); } });

  /* ---- The instant on screen ----------------------------------------------------------- */
  function validDate(date) { return date instanceof Date && !isNaN(date.getTime()) ? date : null; }

  /* The wall-clock instant of the picture on screen: hls.js's program date-time of the frame
   * playing, or the native player's start date plus its position; else the (corrected) clock. */
  function playingInstant() {
    if (state.hls) {
      var playing = validDate(state.hls.playingDate);
      if (playing) { return playing; }
    } else if (video.getAttribute("src") && typeof video.getStartDate === "function") {
      var start = validDate(video.getStartDate());
      if (start && video.currentTime > 0) { return new Date(start.getTime() + video.currentTime * 1000); }
    }
    return serverNow();
  }
  state.playingInstant = playingInstant;

  /* The entry airing at ``at`` among the payload's entries, and the ones after it; the server's
   * own now/next when ``at`` is outside them. */
  function pickEntries(info, at) {
    var entries = (info && info.entries) || [];
    var time = at.getTime();
    for (var i = 0; i < entries.length; i++) {
      if (Date.parse(entries[i].start) <= time && time < Date.parse(entries[i].stop)) {
        return { now: entries[i], next: entries.slice(i + 1, i + 1 + NEXT_COUNT) };
      }
    }
    return { now: (info && info.now) || null, next: (info && info.next) || [] };
  }

  /* ---- Now/next, ticker, weather -------------------------------------------------------- */
  function renderProgress(now, at) {
    var progress = 0;
    if (now) {
      var start = Date.parse(now.start), stop = Date.parse(now.stop);
      progress = Math.max(0, Math.min(1, (at.getTime() - start) / (stop - start)));
    }
    $("tv-banner-bar").style.width = (progress * 100).toFixed(1) + "%";
  }

  /* Fill the banner with what the viewer sees; only the progress bar when that has not changed
   * (the banner is a live region: its text must change only when the programme does). */
  function renderBanner(force) {
    var at = playingInstant();
    var picked = pickEntries(state.info, at);
    var now = picked.now;
    var key = state.info ? (now ? now.start + " " + now.title : "none") : null;
    renderProgress(now, at);
    if (!force && key === state.shownKey) { return; }
    state.shownKey = key;
    state.playing = now;
    $("tv-banner-title").textContent = now ? now.title : labels.no_information;
    $("tv-banner-times").textContent = now ? hhmm(now.start) + " – " + hhmm(now.stop) : "";
    var poster = $("tv-banner-poster");
    if (now && now.poster) { poster.src = now.poster; poster.hidden = false; }
    else { poster.hidden = true; poster.removeAttribute("src"); }
    var list = $("tv-banner-next");
    clear(list);
    picked.next.forEach(function (entry) {
      var item = el("li");
      var time = el("time", "", hhmm(entry.start));
      time.setAttribute("datetime", entry.start);
      item.appendChild(time);
      item.appendChild(document.createTextNode(entry.title));
      list.appendChild(item);
    });
  }

  function renderOverlays() {
    var info = state.info || {};
    var ticker = (info.ticker || []).map(function (t) {
      return typeof t === "string" ? t : (t.text || t.title || "");
    }).filter(Boolean);
    $("tv-ticker-text").textContent = ticker.join("   •   ");
    $("tv-ticker").hidden = ticker.length === 0;
    var weather = info.weather, corner = $("tv-weather");
    if (weather) {
      var parts = [];
      if (weather.temperature !== undefined && weather.temperature !== null) {
        parts.push(Math.round(weather.temperature) + " °C");
      }
      if (weather.summary || weather.text) { parts.push(weather.summary || weather.text); }
      corner.textContent = parts.join(" · ");
      corner.hidden = parts.length === 0;
    } else {
      corner.hidden = true;
    }
  }

  function receive(slug, info) {
    if (!channels[state.index] || channels[state.index].slug !== slug) { return; }  // zapped
    state.info = info;
    state.clockSkew = Date.parse(info.server_time) - Date.now();
    renderBanner(true);
    renderOverlays();
  }

  function poll() {
    var channel = channels[state.index];
    if (state.pollTimer) { clearTimeout(state.pollTimer); }
    state.pollTimer = setTimeout(poll, data.poll_seconds * 1000);
    if (!channel) { return; }
    var slug = channel.slug;
    fetch(channel.now_url, { cache: "no-store" }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (info) { receive(slug, info); })
      .catch(function () { /* keep the last known data; try again at the next poll */ });
  }

  var EVENTS_FIRST_WAIT = 10000;  // the first event comes at once, unless a proxy holds it back
  var EVENTS_RETRY_AFTER = 60000;  // after falling back to polling, try the events again

  function stopFollowing() {
    if (state.source) { state.source.close(); state.source = null; }
    if (state.pollTimer) { clearTimeout(state.pollTimer); state.pollTimer = null; }
    if (state.eventsTimer) { clearTimeout(state.eventsTimer); state.eventsTimer = null; }
  }

  function fallBackToPolling() {
    stopFollowing();
    state.mode = "poll";
    poll();
    state.eventsTimer = setTimeout(follow, EVENTS_RETRY_AFTER);
  }

  /* Follow the channel's now/next: its event stream when the browser has EventSource, else
   * (or when the stream fails, or its first event does not come) by polling. */
  function follow() {
    var channel = channels[state.index];
    stopFollowing();
    if (!channel) { return; }
    if (!window.EventSource || !channel.events_url) { state.mode = "poll"; poll(); return; }
    var slug = channel.slug, source = new EventSource(channel.events_url);
    state.source = source;
    state.mode = "events";
    state.eventsTimer = setTimeout(fallBackToPolling, EVENTS_FIRST_WAIT);
    source.addEventListener("now", function (event) {
      if (state.source !== source) { return; }
      if (state.eventsTimer) { clearTimeout(state.eventsTimer); state.eventsTimer = null; }
      try { receive(slug, JSON.parse(event.data)); } catch (err) { /* a garbled event: skip it */ }
    });
    source.addEventListener("error", function () {
      if (state.source === source) { fallBackToPolling(); }
    });
  }

  /* ---- Banner, channel badge, clock ---------------------------------------------------- */
  function showBanner() {
    renderBanner();
    $("tv-banner").hidden = false;
    if (state.bannerTimer) { clearTimeout(state.bannerTimer); }
    state.bannerTimer = setTimeout(hideBanner, 8000);
  }
  function hideBanner() { $("tv-banner").hidden = true; }

  function showChannelBadge() {
    var channel = channels[state.index], badge = $("tv-channel");
    if (!channel) { return; }
    badge.textContent = channel.number + "  " + channel.name;
    badge.classList.add("is-visible");
    clearTimeout(state.badgeTimer);
    state.badgeTimer = setTimeout(function () { badge.classList.remove("is-visible"); }, 5000);
  }

  function tick() { $("tv-clock").textContent = timeFormat.format(serverNow()); }

  function tune(index) {
    if (!channels.length) { return; }
    state.index = (index + channels.length) % channels.length;
    state.info = null;
    state.shownKey = "";  // differs from any key: the next render fills the banner
    document.body.setAttribute("data-channel", channels[state.index].slug);
    root.setAttribute("data-channel", channels[state.index].slug);
    if (!embedded && window.history && history.replaceState) {
      history.replaceState(null, "", "?channel=" + encodeURIComponent(channels[state.index].slug)
        + (data.language !== "fr" ? "&lang=" + data.language : ""));
    }
    play();
    follow();
    showChannelBadge();
    showBanner();
  }

  /* ---- EPG grid ------------------------------------------------------------------------ */
  var GUIDE_HOURS = 3;

  function guideOpen() { return !$("tv-guide").hidden; }

  function renderGuideTimes(start) {
    var times = $("tv-guide-times");
    clear(times);
    for (var step = 0; step < GUIDE_HOURS * 2; step++) {
      var at = new Date(start.getTime() + step * 30 * 60000);
      var label = el("span", "", timeFormat.format(at));
      label.style.left = (step / (GUIDE_HOURS * 2) * 100) + "%";
      times.appendChild(label);
    }
  }

  function openGuide() {
    hideBanner();
    var now = playingInstant();
    var start = new Date(Math.floor(now.getTime() / 1800000) * 1800000);
    var end = new Date(start.getTime() + GUIDE_HOURS * 3600000);
    var span = end.getTime() - start.getTime();
    renderGuideTimes(start);
    var rows = $("tv-guide-rows");
    clear(rows);
    state.guideRow = state.index;
    channels.forEach(function (channel, index) {
      var row = el("div", "tv-guide__row");
      row.setAttribute("data-slug", channel.slug);
      row.appendChild(el("div", "tv-guide__name", channel.number + "  " + channel.name));
      var line = el("div", "tv-guide__line");
      row.appendChild(line);
      rows.appendChild(row);
      var url = channel.schedule_url + "?from=" + encodeURIComponent(start.toISOString())
        + "&to=" + encodeURIComponent(end.toISOString());
      fetch(url).then(function (r) { return r.ok ? r.json() : { entries: [] }; }).then(function (body) {
        body.entries.forEach(function (entry) {
          var from = Math.max(Date.parse(entry.start), start.getTime());
          var to = Math.min(Date.parse(entry.stop), end.getTime());
          if (to <= from) { return; }
          var cell = el("div", "tv-guide__cell" + (entry.kind === "slot" ? " is-slot" : ""));
          if (Date.parse(entry.start) <= now.getTime() && now.getTime() < Date.parse(entry.stop)) {
            cell.classList.add("is-now");
          }
          cell.style.left = ((from - start.getTime()) / span * 100) + "%";
          cell.style.width = ((to - from) / span * 100) + "%";
          cell.appendChild(el("strong", "", entry.title));
          cell.appendChild(el("time", "", hhmm(entry.start) + " – " + hhmm(entry.stop)));
          line.appendChild(cell);
        });
      }).catch(function () {
        line.appendChild(el("div", "tv-guide__cell is-slot", labels.no_information));
      });
      if (index === state.guideRow) { row.classList.add("is-selected"); }
    });
    $("tv-guide").hidden = false;
  }

  function closeGuide() { $("tv-guide").hidden = true; }

  function moveGuide(delta) {
    var rows = $("tv-guide-rows").children;
    if (!rows.length) { return; }
    rows[state.guideRow].classList.remove("is-selected");
    state.guideRow = (state.guideRow + delta + rows.length) % rows.length;
    rows[state.guideRow].classList.add("is-selected");
  }

  /* ---- Remote control ------------------------------------------------------------------- */
  var KEYCODES = {  // older TV browsers only give keyCode
    13: "Enter", 27: "Escape", 8: "Backspace", 461: "GoBack", 10009: "GoBack", 457: "Info",
    33: "PageUp", 34: "PageDown", 427: "ChannelUp", 428: "ChannelDown", 458: "Guide",
    37: "ArrowLeft", 38: "ArrowUp", 39: "ArrowRight", 40: "ArrowDown"
  };

  function keyName(event) {
    var key = event.key;
    if (!key || key === "Unidentified") { key = KEYCODES[event.keyCode] || ""; }
    return key.length === 1 ? key.toLowerCase() : key;
  }

  /* Change channel by ``delta`` (full screen only: an embedded player shows one channel). */
  function zap(delta) {
    if (embedded || channels.length < 2) { return false; }
    tune(state.index + delta);
    return true;
  }

  function onKey(event) {
    var key = keyName(event), handled = true;
    switch (key) {
      case "ArrowUp": case "ChannelUp": case "PageUp":
        if (guideOpen() && key === "ArrowUp") { moveGuide(-1); } else { handled = zap(1); }
        break;
      case "ArrowDown": case "ChannelDown": case "PageDown":
        if (guideOpen() && key === "ArrowDown") { moveGuide(1); } else { handled = zap(-1); }
        break;
      case "Enter": case "Accept":
        if (guideOpen()) { closeGuide(); if (state.guideRow !== state.index) { tune(state.guideRow); } }
        else { showBanner(); }
        break;
      case "i": case "Info":
        showBanner();
        break;
      case "ArrowLeft": case "ArrowRight": case "g": case "Guide":
        if (guideOpen()) { closeGuide(); } else { openGuide(); }
        break;
      case "Escape": case "Backspace": case "GoBack": case "BrowserBack":
        closeGuide();
        hideBanner();
        break;
      default:
        handled = false;
    }
    if (handled) {
      event.preventDefault();
      var help = $("tv-help");
      help.classList.remove("is-visible");
    }
  }

  (embedded ? root : document).addEventListener("keydown", onKey);

  function onAction(event) {  // the buttons under an embedded player
    var action = event.currentTarget.getAttribute("data-tv-action");
    if (action === "banner") { showBanner(); }
    if (action === "guide") { if (guideOpen()) { closeGuide(); } else { openGuide(); } }
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-tv-action]"), function (button) {
    button.addEventListener("click", onAction);
  });

  /* ---- Start ---------------------------------------------------------------------------- */
  var initial = 0;
  channels.forEach(function (channel, index) { if (channel.slug === data.initial) { initial = index; } });
  tick();
  setInterval(tick, 1000);
  setInterval(function () { if (state.info) { renderBanner(false); } }, 500);  // follow the picture
  $("tv-help").classList.add("is-visible");
  setTimeout(function () { $("tv-help").classList.remove("is-visible"); }, 10000);
  if (channels.length) { tune(initial); } else { status(labels.no_channel); }
})();
