// Small progressive enhancements; every page works without them.
document.addEventListener("htmx:responseError", function (event) {
  var box = document.getElementById("live-error");
  if (box) { box.textContent = "The server answered " + event.detail.xhr.status + "; retrying."; }
});
document.addEventListener("htmx:afterSwap", function (event) {
  var log = event.detail.target;
  if (log && log.classList && log.classList.contains("log-follow")) {
    var pre = document.getElementById("log");
    if (pre) { pre.scrollTop = pre.scrollHeight; }
  }
});
