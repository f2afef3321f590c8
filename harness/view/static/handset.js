// The handset page of `harness view`: live frames over a WebSocket, click to tap, drag to swipe, typing to text.
// Served as is (no build step). window.viewStats is what the browser tests and benchmarks read.
"use strict";
(function () {
  const base = location.pathname.replace(/[^/]*$/, "");          // /h/NAME/
  const $ = (id) => document.getElementById(id);
  const img = $("screen"), box = $("screenbox"), overlay = $("targets");
  const stats = window.viewStats = { frames: 0, first: 0, last: 0, arrivals: [], seq: 0, changes: 0, width: 0, height: 0 };
  let meta = null, shownUrl = null, showTargets = false, lastSeen = null;

  function say(text) { $("error").textContent = text || ""; }

  // one request after the other, so taps, text and keys reach the handset in the order they were made
  let queue = Promise.resolve();
  function post(action, body) {
    queue = queue.then(() => fetch(base + action, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
    }).then(async (r) => { if (!r.ok) say((await r.json().catch(() => ({}))).error || r.statusText); else say(""); })
      .catch((e) => say(String(e))));
    return queue;
  }

  // frames: a text message with the frame's numbers, then its JPEG; "next" asks for the newest once it is shown
  function connect() {
    // frames as high as this window can show them (on this display's pixels): the server shrinks them once for all
    const height = Math.ceil(Math.max(window.screen.height, window.innerHeight) * (window.devicePixelRatio || 1));
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + base + "ws?height=" + height);
    ws.binaryType = "blob";
    let loading = false, pending = null;           // a frame being decoded, and the newest one waiting for it
    function show(url, m) {
      loading = true;
      img.onload = () => {
        if (shownUrl) URL.revokeObjectURL(shownUrl);
        shownUrl = url;
        const now = Date.now();
        stats.frames += 1; stats.first = stats.first || now; stats.last = now;
        stats.seq = m.seq; stats.changes = m.changes; stats.width = m.width; stats.height = m.height;
        stats.arrivals.push({ seq: m.seq, changes: m.changes, taken: m.taken * 1000, shown: now });
        if (stats.arrivals.length > 2000) stats.arrivals.splice(0, 1000);
        img.dataset.seq = m.seq; img.dataset.changes = m.changes;
        if (ws.readyState === WebSocket.OPEN) ws.send("next");
        loading = false;
        if (pending) { const p = pending; pending = null; show(p.url, p.m); }
      };
      img.onerror = () => {                            // a frame that did not decode: ask for the next all the same
        URL.revokeObjectURL(url);
        if (ws.readyState === WebSocket.OPEN) ws.send("next");
        loading = false;
        if (pending) { const p = pending; pending = null; show(p.url, p.m); }
      };
      img.src = url;
    }
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") { meta = JSON.parse(ev.data); return; }
      const url = URL.createObjectURL(ev.data), m = meta;
      if (!loading) { show(url, m); return; }
      if (pending) {                                  // overtaken before it was shown: skip it, ask for another
        URL.revokeObjectURL(pending.url);
        if (ws.readyState === WebSocket.OPEN) ws.send("next");
      }
      pending = { url, m };
    };
    ws.onclose = () => { say("frames stopped; reconnecting"); setTimeout(connect, 1000); };
  }

  function devicePoint(ev) {
    const r = img.getBoundingClientRect();
    return [Math.round((ev.clientX - r.left) / r.width * stats.width),
            Math.round((ev.clientY - r.top) / r.height * stats.height)];
  }

  // a click taps where it lands; a drag swipes, taking as long as the drag did
  let down = null;
  img.addEventListener("pointerdown", (ev) => { if (stats.width) { down = { p: devicePoint(ev), x: ev.clientX, y: ev.clientY, t: Date.now() }; box.focus(); ev.preventDefault(); } });
  img.addEventListener("pointerup", (ev) => {
    if (!down) return;
    const d = down; down = null;
    const p = devicePoint(ev);
    if (Math.hypot(ev.clientX - d.x, ev.clientY - d.y) < 8) post("tap", { x: d.p[0], y: d.p[1] });
    else post("swipe", { x1: d.p[0], y1: d.p[1], x2: p[0], y2: p[1], ms: Math.min(3000, Math.max(100, Date.now() - d.t)) });
  });

  // typing on the focused screen: characters go as text (gathered briefly), Backspace and Enter as keys
  let typed = "", timer = null;
  function flush() { clearTimeout(timer); timer = null; if (typed) { const t = typed; typed = ""; post("text", { text: t }); } }
  box.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const keys = { Backspace: "delete", Enter: "enter", Escape: "back" };
    if (keys[ev.key]) { flush(); post("key", { name: keys[ev.key] }); ev.preventDefault(); }
    else if (ev.key.length === 1) { typed += ev.key; clearTimeout(timer); timer = setTimeout(flush, 150); ev.preventDefault(); }
  });
  document.querySelectorAll("#keys button").forEach((b) => b.addEventListener("click", () => post("key", { name: b.dataset.key })));

  $("drive").addEventListener("click", () => post("drive").then(poll));
  $("show-targets").addEventListener("click", () => { showTargets = !showTargets; drawTargets(); });
  $("shot").addEventListener("click", () => {
    const a = document.createElement("a");     // the screen now, at the handset's full size, as a PNG
    a.href = base + "snapshot.png?max_age=0"; a.download = `${$("name").textContent || "handset"}-${new Date().toISOString().replace(/[:.]/g, "-")}.png`;
    document.body.appendChild(a); a.click(); a.remove();
  });
  $("load-messages").addEventListener("click", async () => {
    const r = await fetch(base + "messages"), body = await r.json();
    if (!r.ok) { say(body.error); return; }
    const t = $("messages"); t.textContent = "";
    if (!body.messages.length) t.insertRow().insertCell().textContent = "no messages";
    for (const m of body.messages) {
      const row = t.insertRow();
      for (const v of [m.sender, m.when, m.parts > 1 ? `[${m.parts} parts] ${m.text}` : m.text]) row.insertCell().textContent = v;
    }
  });

  let drawn = "";
  function drawTargets() {
    const key = showTargets && lastSeen && stats.width ? JSON.stringify([lastSeen.targets, stats.width, stats.height]) : "";
    if (key === drawn) return;                      // unchanged: the boxes a person may be clicking stay where they are
    drawn = key;
    overlay.textContent = "";
    if (!key) return;
    for (const t of lastSeen.targets) {
      const d = document.createElement("div"), [x, y, w, h] = t.box;
      d.className = "target"; d.dataset.name = t.name; d.title = `tap ${t.name}`;
      Object.assign(d.style, { left: `${x / stats.width * 100}%`, top: `${y / stats.height * 100}%`,
                               width: `${w / stats.width * 100}%`, height: `${h / stats.height * 100}%` });
      const label = document.createElement("span"); label.textContent = t.name; d.appendChild(label);
      d.addEventListener("click", () => post("tap", { x: t.tap[0], y: t.tap[1] }));
      overlay.appendChild(d);
    }
  }

  async function poll() {
    try {
      const r = await fetch(base + "state");
      if (!r.ok) return;
      const s = await r.json();
      $("name").textContent = s.name; $("uri").textContent = s.uri;
      lastSeen = s.seen;
      $("screen-name").textContent = s.seen.screen || "unknown";
      $("score").textContent = `score ${s.seen.score.toFixed(2)}`;
      $("screen-name").title = s.seen.why || "";
      $("lease").textContent = s.driving ? "driving" + (s.holder ? " (lease held by this view)" : "")
        : `watching only${s.holder ? "; lease held by " + s.holder : "; lease free"}`;
      $("drive").hidden = s.driving;
      $("console").textContent = s.console.length ? s.console.join("\n") : (s.console_note || "");
      if (s.error) say(`screenshot: ${s.error}`);
      // frames come when the screen changes: the rate over the last second, "still" when nothing changed
      const recent = stats.arrivals.filter((a) => a.shown > Date.now() - 1000).length;
      $("fps").textContent = stats.frames ? (recent ? `${recent} fps` : "still") : "";
      drawTargets();
    } catch (e) { say(String(e)); }
  }
  fetch("/rack.json").then((r) => r.json()).then((r) => { $("to-rack").hidden = !r.rack; }).catch(() => {});
  connect();
  poll();
  setInterval(poll, 700);
})();
