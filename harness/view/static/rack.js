// The rack overview of `harness view --inventory`: a live thumbnail per handset, its screen and its lease holder.
// Watching takes no lease; a click opens the handset's page, where a person may choose to drive it.
"use strict";
(function () {
  const rack = document.getElementById("rack");
  const cards = {};
  function card(h) {
    const c = document.createElement("div");
    c.className = "card"; c.dataset.name = h.name;
    c.innerHTML = '<img alt=""><div class="name"></div><div class="screen"></div><div class="holder"></div>';
    c.querySelector(".name").textContent = h.name;
    c.querySelector("img").alt = `${h.name}'s screen`;
    c.addEventListener("click", () => { location.href = `/h/${encodeURIComponent(h.name)}/`; });
    rack.appendChild(c);
    refreshImage(c, h.name);
    return c;
  }
  // one thumbnail at a time per handset: the next is asked for when this one has come (or failed)
  function refreshImage(c, name) {
    const img = c.querySelector("img");
    const again = () => setTimeout(() => refreshImage(c, name), 1000);
    img.onload = again; img.onerror = again;
    img.src = `/h/${encodeURIComponent(name)}/snapshot.jpg?max_age=1&t=${Date.now()}`;
  }
  async function poll() {
    try {
      const r = await (await fetch("/rack.json")).json();
      for (const h of r.handsets) {
        const c = cards[h.name] || (cards[h.name] = card(h));
        c.querySelector(".screen").textContent = h.seen ? `screen: ${h.seen.screen || "unknown"} ${h.seen.score.toFixed(2)}` : (h.error ? `no picture: ${h.error}` : "looking ...");
        c.querySelector(".holder").textContent = h.driving ? "driven from this view" : h.holder ? `lease: ${h.holder}` : "lease: free";
      }
    } catch (e) { /* the next poll tries again */ }
  }
  poll();
  setInterval(poll, 1500);
})();
