/* Services inline: show the fields that belong to the chosen type, details included. A saved row
   carries its own type's details only; when its type is changed, the new type's fields are copied
   from the empty row (the template of «Добавить ещё», which has every type's). Without the script a
   changed type comes back from the server with the new type's fields to fill in. */
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
    ["origin", "destination", "end_timezone"].forEach(function (name) {
      show(block.querySelector("[name$='-" + name + "']"), !type || transport);
    });
    ["city", "address"].forEach(function (name) {
      show(block.querySelector("[name$='-" + name + "']"), !type || !transport);
    });
    if (type && !block.querySelector("fieldset.service-details-" + type)) { copyDetails(block, type); }
    // Details: only the chosen type's fieldset («Детали: Авиабилет» …); none before a type is chosen.
    block.querySelectorAll("fieldset.service-details").forEach(function (fieldset) {
      fieldset.style.display = type && fieldset.classList.contains("service-details-" + type) ? "" : "none";
    });
  }

  function copyDetails(block, type) {
    var index = (block.id || "").split("-").pop();
    var empty = document.querySelector(".inline-related.empty-form fieldset.service-details-" + type);
    if (!empty || !/^\d+$/.test(index)) { return; }
    var holder = document.createElement("div");
    holder.innerHTML = empty.outerHTML.replace(/__prefix__/g, index);
    var fieldsets = block.querySelectorAll("fieldset");
    var last = fieldsets[fieldsets.length - 1];
    last.parentNode.insertBefore(holder.firstElementChild, last.nextSibling);
  }

  function bindBlock(block) {
    block.dataset.ordersBound = "1";
    var select = block.querySelector("select[name$='-type']");
    if (select) { select.addEventListener("change", function () { apply(block); }); }
    apply(block);
  }

  function bind(root) {
    root.querySelectorAll(".inline-related").forEach(function (block) {
      // The hidden template row is cloned for «Добавить ещё»: a mark on it would be cloned too.
      if (block.dataset.ordersBound || block.classList.contains("empty-form")) { return; }
      bindBlock(block);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("formset:added", function (event) {
    var block = event.target.closest(".inline-related") || event.target;
    if (block.classList && block.classList.contains("inline-related")) { bindBlock(block); }
  });
})();
