// Forms whose answer takes seconds (a portrait is measured by the face model): the button says
// so, is announced, and cannot send the form twice. Without script the form posts as usual.
(function () {
  "use strict";
  function reset(form) {
    var button = form.querySelector("[data-busy-text]");
    delete form.dataset.submitting;
    if (!button) return;
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.classList.remove("is-busy");
    if (button.dataset.idleText) button.textContent = button.dataset.idleText;
    var status = form.querySelector("[data-busy-status]");
    if (status) status.textContent = "";
  }
  var forms = document.querySelectorAll("form[data-busy]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting) {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "1";
      var button = form.querySelector("[data-busy-text]");
      if (!button) return;
      button.dataset.idleText = button.textContent;
      // The button carries no name, so disabling it does not change what the form sends.
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.classList.add("is-busy");
      button.textContent = button.dataset.busyText;
      var status = form.querySelector("[data-busy-status]");
      if (status) status.textContent = button.dataset.busyText;
    });
  });
  // Back to a page kept in the browser's cache: the form can be used again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) Array.prototype.forEach.call(forms, reset);
  });
})();
