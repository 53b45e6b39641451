// The sandbox platform's pages. Video pages count the seconds the page is watched (on
// screen), and the like carries them; live rooms send a heartbeat while the page is
// open, and the server counts the time between beats. Without scripts the pages still
// work: a like then says 0 seconds watched, and a stay in a room counts until leaving.
(function () {
  "use strict";

  function startWatchTimer(timer) {
    var seconds = 0;
    var shown = timer.querySelector("[data-watch-seconds]");
    var fields = document.querySelectorAll("input[name=watched_seconds]");
    window.setInterval(function () {
      if (document.visibilityState !== "visible") {
        return;
      }
      seconds += 1;
      shown.textContent = String(seconds);
      for (var i = 0; i < fields.length; i += 1) {
        fields[i].value = String(seconds);
      }
    }, 1000);
  }

  function startHeartbeat(room) {
    var url = room.getAttribute("data-heartbeat-url");
    var every = parseInt(room.getAttribute("data-heartbeat-seconds"), 10) * 1000;
    var shown = room.querySelector("[data-stayed-seconds]");
    var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    var body = new URLSearchParams();
    body.set("visit_id", room.getAttribute("data-live-visit"));
    var beat = window.setInterval(function () {
      window.fetch(url, {
        method: "POST",
        headers: { "X-CSRF-Token": token },
        body: body,
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("heartbeat refused: " + response.status);
        }
        return response.json();
      }).then(function (data) {
        shown.textContent = String(data.stayed_seconds);
        if (!data.open) {
          window.clearInterval(beat);
          room.setAttribute("data-closed", "true");
        }
      }).catch(function () {
        window.clearInterval(beat);
      });
    }, every);
  }

  var timer = document.querySelector("[data-watch-timer]");
  if (timer) {
    startWatchTimer(timer);
  }
  var room = document.querySelector("[data-live-visit]");
  if (room) {
    startHeartbeat(room);
  }
})();
