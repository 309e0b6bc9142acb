// Upload into a project's storage from the portal: drag and drop or a file button, with a progress bar.
// The protocol is the API's chunked upload (routes/storage_uploads.py on the portal's session):
//   1. the file's sha256, computed here with crypto.subtle;
//   2. POST {name, size, sha256}: the upload (or yours of the same file, to resume: it names its offset);
//   3. PUT each chunk from that offset with Content-Range: bytes START-END/TOTAL;
//   4. POST .../complete {sha256}: the server checks it; the file appears only then.
// Refusals (over the quota, a bad name, a checksum mismatch) show the server's own message.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : "";
    });
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  async function answer(response) {
    var body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      var reason = body && body.detail ? body.detail : "HTTP " + response.status;
      throw new Error(reason);
    }
    return body;
  }

  function send(url, method, body, headers) {
    var all = Object.assign({"X-CSRF-Token": csrfToken()}, headers || {});
    return fetch(url, {method: method, body: body, headers: all, credentials: "same-origin"}).then(answer);
  }

  async function uploadFile(box, file) {
    var status = box.querySelector("[data-upload-status]");
    var bar = box.querySelector("[data-upload-progress]");
    var msg = function (key, values) { return fill(box.dataset["msg" + key] || "", values); };
    var show = function (text) { status.textContent = text; };
    box.classList.remove("failed");
    if (!(window.crypto && window.crypto.subtle)) {
      show(msg("Nocrypto", {}));
      box.classList.add("failed");
      return null;
    }
    bar.hidden = false;
    bar.value = 0;
    try {
      show(msg("Hashing", {name: file.name}));
      var sha256 = hex(await window.crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
      var json = {"Content-Type": "application/json"};
      var up = await send(box.dataset.create, "POST", JSON.stringify({name: file.name, size: file.size, sha256: sha256}), json);
      var step = Math.max(1, Number(box.dataset.maxChunk) || up.max_chunk_bytes);
      var offset = up.offset;
      while (offset < file.size) {
        var end = Math.min(offset + step, file.size);
        var range = "bytes " + offset + "-" + (end - 1) + "/" + file.size;
        up = await send(up.url, "PUT", file.slice(offset, end), {"Content-Range": range, "Content-Type": "application/octet-stream"});
        offset = up.offset;
        bar.value = Math.round(100 * offset / file.size);
        show(msg("Sending", {name: file.name, percent: bar.value + " %"}));
      }
      var stored = await send(up.url + "/complete", "POST", JSON.stringify({sha256: sha256}), json);
      bar.value = 100;
      show(msg("Done", {name: stored.name}));
      box.dispatchEvent(new CustomEvent("aif:uploaded", {bubbles: true, detail: stored}));
      return stored;
    } catch (err) {
      box.classList.add("failed");
      show(msg("Failed", {name: file.name, reason: err.message}));
      return null;
    }
  }

  function selectStored(box, stored) {
    var select = document.getElementById(box.dataset.target);
    if (!select) { return; }
    var group = select.querySelector("optgroup[data-files]") || select;
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === stored.name; });
    if (!option) {
      option = document.createElement("option");
      option.value = stored.name;
      option.textContent = stored.name;
      group.appendChild(option);
    }
    select.value = stored.name;
    select.dispatchEvent(new Event("change", {bubbles: true}));
  }

  async function handle(box, files) {
    for (var i = 0; i < files.length; i++) {
      var stored = await uploadFile(box, files[i]);
      if (!stored) { return; }
      if (box.dataset.after === "select") { selectStored(box, stored); }
    }
    if (box.dataset.after === "reload") { window.location.reload(); }
  }

  function wire(box) {
    var input = box.querySelector("[data-upload-input]");
    var drop = box.querySelector("[data-upload-drop]");
    input.addEventListener("change", function () {
      if (input.files.length) { handle(box, input.files).then(function () { input.value = ""; }); }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { handle(box, event.dataTransfer.files); }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-upload]"), wire);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
