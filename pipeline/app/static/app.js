// attunement's local app: uploads, the live queue, and the History/Voices buttons.
// Data from the server is put into the page as text (textContent), never as HTML.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf"]').content;

  async function post(url, body) {
    const headers = { "X-CSRF-Token": csrf };
    if (body && !(body instanceof FormData)) { headers["Content-Type"] = "application/json"; body = JSON.stringify(body); }
    const r = await fetch(url, { method: "POST", headers, body, credentials: "same-origin" });
    let data = {};
    try { data = await r.json(); } catch (e) { data = { error: r.status === 413 ? "the file is larger than the upload limit" : "the app did not answer (" + r.status + ")" }; }
    if (!r.ok && !data.error) data.error = "refused (" + r.status + ")";
    return data;
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clock(s) {
    s = Math.round(s);
    if (s < 60) return "less than a minute";
    const m = Math.round(s / 60);
    return "about " + m + " minute" + (m === 1 ? "" : "s");
  }

  // ---- Add recordings
  const form = document.getElementById("upload");
  if (form) {
    const input = document.getElementById("files"), drop = document.getElementById("drop"), status = document.getElementById("upload-status");
    let chosen = [];
    const show = () => { document.getElementById("chosen").textContent = chosen.length ? chosen.map(f => f.name).join(", ") : "none"; };
    input.addEventListener("change", () => { chosen = Array.from(input.files); show(); });
    drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); chosen = Array.from(e.dataTransfer.files); show(); });
    drop.addEventListener("keydown", e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
    form.addEventListener("submit", async e => {
      e.preventDefault();
      if (!chosen.length) { status.textContent = "Choose at least one recording first."; status.className = "error"; return; }
      const files = chosen; chosen = []; show(); input.value = "";
      let added = 0; const problems = [];
      for (const f of files) {
        status.className = ""; status.textContent = "Adding " + f.name + "…";
        const fd = new FormData(form); fd.delete("file"); fd.append("file", f, f.name);
        const res = await post("/api/upload", fd);
        if (res.error) problems.push(res.error); else added++;
        refresh();
      }
      status.textContent = (added ? added + " added to the queue. " : "") + problems.join(" ");
      status.className = problems.length ? "error" : "";
    });
  }

  // ---- the queue
  const queue = document.getElementById("queue");
  function renderJob(j) {
    const box = el("article", { class: "job", "data-job": j.id, "data-status": j.status });
    box.appendChild(el("h3", {}, j.name));
    const labels = Object.entries(j.labels || {}).map(([k, v]) => k + ": " + v).join(" · ");
    if (labels) box.appendChild(el("p", { class: "help" }, labels));
    const words = { queued: "Waiting to start", running: "Analysing", cancelling: "Stopping…", done: "Done",
      failed: "Could not be analysed", cancelled: "Cancelled", interrupted: "Interrupted" };
    const line = el("p", {});
    line.appendChild(el("span", { class: "state " + j.status }, words[j.status] || j.status));
    if (j.status === "running" || j.status === "queued") {
      const pct = Math.round((j.done || 0) * 100);
      line.appendChild(document.createTextNode(" · " + pct + " %" + (j.seconds_left != null ? " · " + clock(j.seconds_left) + " left" : "")));
    }
    if (j.reason) line.appendChild(document.createTextNode(" · " + j.reason));
    box.appendChild(line);
    if (j.status === "running" || j.status === "queued") {
      const bar = el("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round((j.done || 0) * 100)) });
      const fill = el("span"); fill.style.width = Math.round((j.done || 0) * 100) + "%"; bar.appendChild(fill); box.appendChild(bar);
      const ul = el("ul", { class: "stages" });
      for (const s of j.stages) ul.appendChild(el("li", { class: s.state }, s.label + (s.state === "running" && s.percent != null ? " " + Math.round(s.percent) + " %" : "")));
      box.appendChild(ul);
    }
    const buttons = el("p", { class: "buttons" });
    if (j.status === "done" && j.analysis_id != null) {
      buttons.appendChild(el("a", { href: "/r/" + j.analysis_id + "/report.html" }, "Open the report"));
      buttons.appendChild(el("a", { href: "/r/" + j.analysis_id + "/feedback.html" }, "Feedback sheet"));
    }
    const act = (label, action, cls) => { const b = el("button", { type: "button", class: cls || "secondary", "data-action": action }, label);
      b.addEventListener("click", async () => { const r = await post("/api/jobs/" + j.id + "/" + action); if (r.error) alert(r.error); refresh(); }); buttons.appendChild(b); };
    if (j.can_cancel) act("Cancel", "cancel", "danger");
    if (j.can_retry) act("Try again", "retry");
    if (!j.can_cancel && j.status !== "cancelling") act("Remove from this list", "forget", "link");
    box.appendChild(buttons);
    return box;
  }
  async function refresh() {
    if (!queue) return;
    try {
      const r = await fetch("/api/jobs", { credentials: "same-origin" });
      const data = await r.json();
      queue.replaceChildren(...(data.jobs.length ? data.jobs.map(renderJob) : [el("p", { class: "empty" }, "No recordings added yet.")]));
    } catch (e) { /* the app stopped: the last state stays on screen */ }
  }
  if (queue) { refresh(); setInterval(refresh, 1000); }

  // ---- History
  for (const b of document.querySelectorAll("button.delete")) {
    b.addEventListener("click", async () => {
      if (!confirm("Delete the analysis of " + b.dataset.name + "? Its report, transcript, feedback sheet and the copy of the recording are removed for good.")) return;
      const r = await post("/api/analyses/" + b.dataset.id + "/delete");
      if (r.error) { document.getElementById("history-status").textContent = r.error; return; }
      b.closest("tr").remove();
      document.getElementById("history-status").textContent = "Deleted " + r.deleted + ".";
    });
  }
  for (const b of document.querySelectorAll("button.swap")) {
    b.addEventListener("click", async () => {
      if (!confirm("Swap who is the clinician and who is the patient in " + b.dataset.name + "? Every number is computed again.")) return;
      const r = await post("/api/analyses/" + b.dataset.id + "/swap-roles");
      document.getElementById("history-status").textContent = r.error || "Swapped: the report and the numbers are updated.";
      if (!r.error) setTimeout(() => location.reload(), 600);
    });
  }

  // ---- Voices
  const voice = document.getElementById("voice");
  if (voice) {
    voice.addEventListener("submit", async e => {
      e.preventDefault();
      const s = document.getElementById("voice-status"); s.textContent = "Enrolling…";
      const r = await post("/api/voices", new FormData(voice));
      if (r.error) { s.textContent = r.error; s.className = "error"; } else { location.reload(); }
    });
  }
  for (const b of document.querySelectorAll("button.remove-voice")) {
    b.addEventListener("click", async () => {
      if (!confirm("Remove the voice " + b.dataset.name + "?")) return;
      const r = await post("/api/voices/remove", { name: b.dataset.name });
      if (r.error) alert(r.error); else location.reload();
    });
  }
})();
