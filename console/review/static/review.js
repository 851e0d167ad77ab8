// Review page: the words selected in the message fill the "Parole" fields, with where they
// start (so that the same words twice in a message are told apart).
(function () {
  "use strict";
  function offsetIn(root, node, offset) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var total = 0;
    while (walker.nextNode()) {
      if (walker.currentNode === node) { return total + offset; }
      total += walker.currentNode.textContent.length;
    }
    return -1;
  }
  function onSelect() {
    var root = document.getElementById("testo");
    var selection = window.getSelection();
    if (!root || !selection || selection.rangeCount === 0) { return; }
    var range = selection.getRangeAt(0);
    if (!root.contains(range.startContainer) || !root.contains(range.endContainer)) { return; }
    var start = offsetIn(root, range.startContainer, range.startOffset);
    var end = offsetIn(root, range.endContainer, range.endOffset);
    if (start < 0 || end <= start) { return; }
    var words = root.textContent.slice(start, end);
    var lead = words.length - words.replace(/^\s+/, "").length;
    words = words.trim();
    if (!words) { return; }
    document.querySelectorAll("input[name=parole]").forEach(function (input) { input.value = words; });
    document.querySelectorAll("input[name=inizio]").forEach(function (input) { input.value = String(start + lead); });
  }
  document.addEventListener("mouseup", onSelect);
  document.addEventListener("keyup", onSelect);
})();
