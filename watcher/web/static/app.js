// Review page helpers. No data ever reaches this script except through the DOM's text, so it
// only toggles checkboxes and counts them; the page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Leave empty filters out of the address, so that it stays short enough to read and share.
  const filters = document.querySelector("form.filter-form");
  if (filters) {
    filters.addEventListener("submit", () => {
      for (const field of filters.querySelectorAll("input, select")) {
        if (field.name && field.value === "") {
          field.disabled = true;
        }
      }
    });
    // Coming back with the Back button restores the page as it was, disabled fields included.
    window.addEventListener("pageshow", () => {
      for (const field of filters.querySelectorAll("input, select")) {
        field.disabled = false;
      }
    });
  }
  const bulk = document.getElementById("bulk");
  if (!bulk) {
    return;
  }
  const picks = () => Array.from(document.querySelectorAll("input.pick[form='bulk']"));
  const all = bulk.querySelector("input.pick-all");
  const counter = bulk.querySelector(".picked");
  const update = () => {
    const chosen = picks().filter((box) => box.checked).length;
    counter.textContent = chosen ? `${chosen} selected` : "";
    if (all) {
      all.checked = chosen > 0 && chosen === picks().length;
      all.indeterminate = chosen > 0 && chosen < picks().length;
    }
  };
  if (all) {
    all.addEventListener("change", () => {
      for (const box of picks()) {
        box.checked = all.checked;
      }
      update();
    });
  }
  for (const box of picks()) {
    box.addEventListener("change", update);
  }
  update();
});
