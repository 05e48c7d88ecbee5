// The review queue: "Select all" for the bulk bar. Without script every card is ticked by hand.
(function () {
  "use strict";
  var all = document.getElementById("rv-select-all");
  if (!all) return;
  var boxes = Array.prototype.slice.call(document.querySelectorAll('.rv-select input[name="selected"]'));
  if (!boxes.length) return;
  all.closest(".rv-select-all").hidden = false;
  function sync() {
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
  sync();
})();
