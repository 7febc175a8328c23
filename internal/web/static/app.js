// Progressive enhancement only: every page works without this file.
// Forms marked data-confirm ask before submitting (revoke, disable, reset).
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  var msg = f.getAttribute && f.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});
