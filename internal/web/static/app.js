// Progressive enhancement only: every page works without this file.
// Forms marked data-confirm ask before submitting (revoke, disable, reset);
// so does a submit button marked data-confirm (publish beside a plain save).
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  var b = ev.submitter;
  var msg = (b && b.getAttribute && b.getAttribute("data-confirm")) || (f.getAttribute && f.getAttribute("data-confirm"));
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});

// Follow-up pages: keyboard shortcuts and upload progress.
document.documentElement.classList.add("js");

(function () {
  function typing(el) {
    if (!el) { return false; }
    var t = el.tagName;
    return t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || el.isContentEditable;
  }

  // Worklist: j/k move the selection, Enter opens the task.
  var list = document.querySelector('table[data-kbd="worklist"]');
  if (list) {
    var rows = list.querySelectorAll("tbody tr[data-href]");
    var sel = -1;
    var pick = function (i) {
      if (!rows.length) { return; }
      i = Math.max(0, Math.min(rows.length - 1, i));
      if (sel >= 0) { rows[sel].classList.remove("sel"); rows[sel].removeAttribute("aria-selected"); }
      sel = i;
      rows[sel].classList.add("sel");
      rows[sel].setAttribute("aria-selected", "true");
      if (rows[sel].scrollIntoView) { rows[sel].scrollIntoView({ block: "nearest" }); }
    };
    list.addEventListener("click", function (ev) {
      var tr = ev.target.closest ? ev.target.closest("tr[data-href]") : null;
      if (tr && !ev.target.closest("a,button,input,select")) { window.location = tr.getAttribute("data-href"); }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) { return; }
      if (ev.key === "j") { pick(sel + 1); ev.preventDefault(); }
      else if (ev.key === "k") { pick(sel - 1); ev.preventDefault(); }
      else if (ev.key === "Enter" && sel >= 0) { window.location = rows[sel].getAttribute("data-href"); ev.preventDefault(); }
    });
  }

  // Task page: c claim, 1–7 outcome, r record form, n next task. After a
  // refused form, the first marked field gets the focus.
  if (document.querySelector('[data-kbd="task"]')) {
    if (location.hash === "#record") { // after "reached": straight to the record form
      var first = document.querySelector("#record-form input:not([type=hidden]), #record-form textarea");
      if (first) { first.focus(); }
    }
    var bad = document.querySelector('form [aria-invalid="true"]');
    if (bad) {
      if (bad.tagName === "FIELDSET") { bad = bad.querySelector("input, select, textarea") || bad; }
      if (bad.scrollIntoView) { bad.scrollIntoView({ block: "center" }); }
      if (bad.focus) { bad.focus(); }
    }
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) { return; }
      var k = ev.key, el;
      if (k === "c") {
        el = document.getElementById("claim-form");
        if (el) { ev.preventDefault(); el.submit(); }
      } else if (k >= "1" && k <= "7") {
        el = document.querySelector('#attempt input[data-key="' + k + '"]');
        if (el) { ev.preventDefault(); el.checked = true; el.focus(); }
      } else if (k === "r") {
        el = document.querySelector("#record-form input, #record-form textarea");
        if (el) { ev.preventDefault(); document.getElementById("record").scrollIntoView(); el.focus(); }
      } else if (k === "n") {
        el = document.getElementById("next-task");
        if (el) { ev.preventDefault(); window.location = el.href; }
      }
    });
  }

  // Upload progress: send the form with XMLHttpRequest to show how much of
  // a large file has gone up; without it the form posts normally.
  var form = document.querySelector("form[data-progress]");
  if (form && window.FormData && window.XMLHttpRequest) {
    form.addEventListener("submit", function (ev) {
      if (ev.defaultPrevented) { return; }
      var bar = document.getElementById(form.getAttribute("data-progress"));
      var xhr = new XMLHttpRequest();
      if (!bar || !xhr.upload) { return; }
      ev.preventDefault();
      var btn = form.querySelector("button[type=submit]");
      if (btn) { btn.disabled = true; }
      bar.hidden = false;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round(e.loaded * 100 / e.total); }
      });
      xhr.upload.addEventListener("load", function () { bar.removeAttribute("value"); });
      xhr.addEventListener("load", function () {
        // On success the server answers with the report's address (not a
        // redirect, which the request would follow and so use up the
        // report's one-time notice); errors come back as a page to show.
        var to = xhr.responseText;
        if (xhr.status === 200 && to.indexOf("/imports/") === 0 && to.length < 64) {
          window.location = to;
        } else {
          document.open(); document.write(xhr.responseText); document.close();
        }
      });
      xhr.addEventListener("error", function () { form.submit(); });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Suifang-Upload", "1");
      xhr.send(new FormData(form));
    });
  }
})();
