/* Services inline: show the fields that belong to the chosen type (the form works without it). */
(function () {
  "use strict";
  var TRANSPORT = ["flight", "rail", "transfer"];

  function rowOf(input) {
    return input ? input.closest(".form-row, .fieldBox") : null;
  }

  function show(input, visible) {
    var box = rowOf(input);
    if (box) { box.style.display = visible ? "" : "none"; }
    // Django renders a field's help text next to its box, not inside it: hide it too.
    var help = input && input.id ? document.getElementById(input.id + "_helptext") : null;
    if (help) { help.style.display = visible ? "" : "none"; }
  }

  function apply(block) {
    var select = block.querySelector("select[name$='-type']");
    if (!select) { return; }
    var type = select.value;
    var transport = TRANSPORT.indexOf(type) !== -1;
    ["origin", "destination"].forEach(function (name) {
      show(block.querySelector("[name$='-" + name + "']"), !type || transport);
    });
    ["city", "address"].forEach(function (name) {
      show(block.querySelector("[name$='-" + name + "']"), !type || !transport);
    });
    var details = block.querySelector("textarea[name$='-details']");
    if (details) {
      var help = block.querySelector(".orders-details-help");
      var schemas = JSON.parse(details.dataset.schemas || "{}");
      if (help && schemas[type]) { help.textContent = schemas[type]; }
      if (!details.value.trim() && details.dataset.templates) {
        var templates = JSON.parse(details.dataset.templates);
        if (templates[type]) { details.placeholder = templates[type]; }
      }
    }
  }

  function bind(root) {
    root.querySelectorAll(".inline-related").forEach(function (block) {
      if (block.dataset.ordersBound) { return; }
      block.dataset.ordersBound = "1";
      var select = block.querySelector("select[name$='-type']");
      if (select) { select.addEventListener("change", function () { apply(block); }); }
      apply(block);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("formset:added", function (event) { bind(event.target.closest(".inline-group") || document); });
})();
