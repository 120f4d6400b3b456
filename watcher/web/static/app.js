// Review page enhancements. The page works without this script: every form posts and the answer
// comes back to the same place. With it, review forms post in the background and the card updates
// where it is, keys move between changes and decide them, and times show in the curator's time zone.
// What the server sends back is its own rendered (escaped) HTML; nothing from Commons is ever run.
"use strict";

(() => {
  const CARD = "article.change";
  const TYPING = "input, textarea, select, [contenteditable]";
  const undoStack = []; // the ids of each decision made on this page, latest last

  const cards = () => Array.from(document.querySelectorAll(CARD));
  const live = () => document.getElementById("live");

  // Times: <time datetime> in UTC from the server; show them in the browser's time zone, UTC on hover.
  const localTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  const localTimes = (root) => {
    for (const time of root.querySelectorAll("time[datetime]")) {
      const moment = new Date(time.dateTime);
      if (Number.isNaN(moment.getTime()) || time.dataset.local) {
        continue;
      }
      if (!time.title) {
        time.title = time.textContent;
      }
      time.textContent = localTime.format(moment);
      time.dataset.local = "1";
    }
  };

  const focusable = (card) => {
    card.tabIndex = -1; // focusable by script (j/k), not a tab stop of its own
  };

  const focusCard = (card) => {
    if (!card) {
      return;
    }
    focusable(card);
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  };

  const currentCard = () => {
    const active = document.activeElement;
    return active ? active.closest(CARD) : null;
  };

  // The message of a decision: the server's own markup (text and an Undo form), announced politely.
  const say = (html) => {
    const region = live();
    if (!region) {
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = html;
    region.replaceChildren(template.content);
  };

  const sayError = (text) => {
    const region = live();
    if (!region) {
      return;
    }
    const box = document.createElement("p");
    box.className = "error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    region.replaceChildren(box);
  };

  const updateCounts = (counts) => {
    for (const [status, count] of Object.entries(counts || {})) {
      const badge = document.querySelector(`.tabs .count[data-status="${status}"]`);
      if (badge) {
        badge.textContent = Number(count).toLocaleString("en");
      }
    }
  };

  const replaceCards = (html) => {
    const replaced = [];
    for (const [id, markup] of Object.entries(html || {})) {
      const old = document.getElementById(`change-${id}`);
      if (!old) {
        continue;
      }
      const template = document.createElement("template");
      template.innerHTML = markup.trim();
      const card = template.content.firstElementChild;
      if (!card) {
        continue;
      }
      old.replaceWith(card);
      focusable(card);
      localTimes(card);
      replaced.push(card);
    }
    return replaced;
  };

  // The card to look at after deciding `decided`: the first card after the last of them.
  const nextAfter = (decided) => {
    const all = cards();
    const positions = decided.map((id) => all.findIndex((c) => c.id === `change-${id}`)).filter((i) => i >= 0);
    if (!positions.length) {
      return null;
    }
    const gone = new Set(decided.map((id) => `change-${id}`));
    const after = all.slice(Math.max(...positions) + 1).find((c) => !gone.has(c.id));
    return after || all[Math.max(...positions)];
  };

  const post = async (form, data) => {
    // getAttribute: the buttons named "action" shadow the form's own `action` property.
    const response = await fetch(form.getAttribute("action"), {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      throw new Error((await response.text()).slice(0, 300) || `The server answered ${response.status}.`);
    }
    return response.json();
  };

  const decide = async (form, submitter) => {
    const data = new FormData(form, submitter); // before the buttons are disabled: they would not count
    const buttons = Array.from(form.querySelectorAll("button"));
    buttons.forEach((b) => { b.disabled = true; });
    let answer;
    try {
      answer = await post(form, data);
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      if (error instanceof TypeError) { // the network, not the server: post the form the plain way
        form.dataset.plain = "1";
        form.requestSubmit(submitter);
        return;
      }
      sayError(error.message);
      return;
    }
    buttons.forEach((b) => { b.disabled = false; });
    replaceCards(answer.cards);
    updateCounts(answer.counts);
    say(answer.message_html);
    if (answer.undo && answer.undo.length) {
      undoStack.push(answer.undo);
    }
    const decided = answer.decided || [];
    if (answer.moves_on) {
      focusCard(nextAfter(decided));
    } else if (decided.length) {
      focusCard(document.getElementById(`change-${decided[0]}`));
    }
  };

  const undoLast = () => {
    const ids = undoStack.pop();
    const token = document.querySelector("input[name=csrf]");
    if (!ids || !token) {
      say("<p class=\"flash\">Nothing to undo on this page.</p>");
      return;
    }
    const form = document.createElement("form");
    form.setAttribute("method", "post");
    form.setAttribute("action", "/changes/bulk");
    form.hidden = true;
    const fields = [["csrf", token.value], ["next", location.pathname + location.search], ["action", "undo"]];
    for (const id of ids) {
      fields.push(["id", String(id)]);
    }
    for (const [name, value] of fields) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    decide(form, null).finally(() => form.remove());
  };

  const enhanceForms = () => {
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.dataset.plain) {
        return;
      }
      if (!form.matches("form.review-form, form.edit-form, form.undo-form")) {
        return;
      }
      event.preventDefault();
      if (form.matches("form.undo-form")) {
        // The page's own Undo takes this decision off the stack of what `u` would undo.
        const ids = Array.from(form.querySelectorAll("input[name=id]")).map((i) => Number(i.value));
        const top = undoStack[undoStack.length - 1];
        if (top && top.join() === ids.join()) {
          undoStack.pop();
        }
      }
      decide(form, event.submitter);
    });
  };

  const clickIn = (card, selector) => {
    const button = card && card.querySelector(selector);
    if (button && !button.disabled) {
      button.click();
      return true;
    }
    return false;
  };

  let beforeShortcuts = null; // where the focus was when `?` opened the list, to go back to
  const toggleShortcuts = (open) => {
    const list = document.getElementById("shortcuts");
    if (!list || list.open === open) {
      return;
    }
    list.open = open;
    if (open) {
      beforeShortcuts = document.activeElement;
      list.querySelector("summary").focus();
    } else if (beforeShortcuts && document.contains(beforeShortcuts)) {
      beforeShortcuts.focus();
    }
  };

  const enhanceKeys = () => {
    const list = document.getElementById("shortcuts");
    if (list) {
      list.hidden = false;
    }
    document.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
        return;
      }
      const target = event.target;
      if (target instanceof Element && (target.closest(TYPING) || target.isContentEditable)) {
        return; // never while typing
      }
      const all = cards();
      const card = currentCard();
      const index = card ? all.indexOf(card) : -1;
      let handled = true;
      switch (event.key) {
        case "j":
          focusCard(all[Math.min(index + 1, all.length - 1)]);
          break;
        case "k":
          focusCard(all[Math.max(index - 1, 0)]);
          break;
        case "a":
          handled = clickIn(card, "form.review-form button[value=accept]");
          break;
        case "r":
          handled = clickIn(card, "form.review-form button[value=reject]");
          break;
        case "u":
          undoLast();
          break;
        case "o":
        case "Enter":
          // Enter keeps its own meaning on links and buttons; it opens only a focused card.
          if (card && (event.key === "o" || target === card)) {
            const link = card.querySelector("a.change-id");
            if (link && !location.pathname.endsWith(link.getAttribute("href"))) {
              location.assign(link.href);
            } else {
              handled = false;
            }
          } else {
            handled = false;
          }
          break;
        case "?":
          toggleShortcuts(!(list && list.open));
          break;
        case "Escape":
          if (list && list.open) {
            toggleShortcuts(false);
          } else {
            handled = false;
          }
          break;
        default:
          handled = false;
      }
      if (handled) {
        event.preventDefault();
      }
    });
  };

  const enhanceFilters = () => {
    // Leave empty filters out of the address, so that it stays short enough to read and share.
    const filters = document.querySelector("form.filter-form");
    if (!filters) {
      return;
    }
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
  };

  const enhanceLanguage = () => {
    const form = document.querySelector("form.language");
    if (!form) {
      return;
    }
    const button = form.querySelector("button");
    if (button) {
      button.hidden = true;
    }
    form.querySelector("select").addEventListener("change", () => form.submit());
  };

  const enhanceBulk = () => {
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
    // Delegated: a card redrawn in place brings a new checkbox.
    document.addEventListener("change", (event) => {
      if (event.target instanceof HTMLInputElement && event.target.matches("input.pick[form='bulk']")) {
        update();
      }
    });
    update();
  };

  const start = () => {
    localTimes(document);
    cards().forEach(focusable);
    enhanceFilters();
    enhanceLanguage();
    enhanceBulk();
    enhanceForms();
    enhanceKeys();
    // A decision made without script (or before a reload) can still be undone with `u`.
    const undo = document.querySelector("#live form.undo-form");
    if (undo) {
      undoStack.push(Array.from(undo.querySelectorAll("input[name=id]")).map((i) => Number(i.value)));
    }
    // Landing on #change-N after a decision: that card has the focus, so j/k go on from there.
    if (location.hash.startsWith("#change-")) {
      const target = document.getElementById(location.hash.slice(1));
      if (target && target.matches(CARD)) {
        focusable(target);
        target.focus({ preventScroll: true });
      }
    }
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
