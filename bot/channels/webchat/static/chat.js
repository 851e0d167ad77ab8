// WEL.CO.ME web chat: plain JavaScript, no build step.
// The conversation token lives in localStorage, so a reload shows the same conversation.
// Replies arrive as server-sent events, read with fetch() so the token travels in a header.
// The page writes no sentence of its own: every text it shows is a key of the tables the
// server puts in the page (bot/channels/webchat/page_texts.py, translated by the gateway's
// catalogues), in the conversation's language.
"use strict";

(function () {
  const TOKEN_KEY = "welcome.chat.token";
  const OUTBOX_KEY = "welcome.chat.outbox";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const textarea = document.getElementById("text");
  const statusLine = document.getElementById("status");
  const typing = document.getElementById("typing");
  const shareButton = document.getElementById("share-location");
  const attachButton = document.getElementById("attach");
  const fileInput = document.getElementById("file");
  const shown = new Map(); // message id -> element
  const views = new Map(); // message id -> view, drawn again when the language changes
  const tables = new Map(); // language code -> {code, name, dir, texts}
  for (const language of JSON.parse(document.getElementById("page-texts").textContent || "[]")) {
    tables.set(language.code, language);
  }
  const source = tables.size ? tables.keys().next().value : "it";
  let current = source;
  let token = localStorage.getItem(TOKEN_KEY);
  let lastId = 0;
  let typingTimer = null;

  function clientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A text of the page in the conversation's language ({name} fields filled from `fields`);
  // the source language's text when a language lacks it.
  function t(key, fields) {
    const own = tables.get(current);
    const fallback = tables.get(source);
    let text = (own && own.texts[key]) || (fallback && fallback.texts[key]) || "";
    for (const [name, value] of Object.entries(fields || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  // An element's text; a field made of digits ({112}) is that number in bold.
  function put(element, text) {
    const parts = text.split(/\{(\d+)\}/);
    if (parts.length === 1) {
      element.textContent = text;
      return;
    }
    element.replaceChildren();
    parts.forEach((part, i) => {
      if (i % 2) {
        const strong = document.createElement("strong");
        strong.textContent = part;
        element.appendChild(strong);
      } else if (part) {
        element.appendChild(document.createTextNode(part));
      }
    });
  }

  // The page in the language `code`: its static texts, <html lang dir>, the messages' labels.
  function useLanguage(code) {
    if (!tables.has(code)) code = source;
    if (code === current && document.documentElement.lang === code) return;
    current = code;
    document.documentElement.lang = code;
    document.documentElement.dir = tables.get(code) ? tables.get(code).dir : "ltr";
    for (const element of document.querySelectorAll("[data-text]")) {
      if (element.tagName === "TITLE") document.title = t(element.dataset.text);
      else put(element, t(element.dataset.text));
    }
    for (const element of document.querySelectorAll("[data-text-placeholder]")) {
      element.placeholder = t(element.dataset.textPlaceholder);
    }
    for (const element of document.querySelectorAll("[data-text-aria-label]")) {
      element.setAttribute("aria-label", t(element.dataset.textAriaLabel));
    }
    for (const view of views.values()) render(view);
    if (statusLine.dataset.key) say(statusLine.dataset.key);
  }

  // The status line shows a text of the page (a key), or a sentence the server wrote (the
  // API's errors, already in the conversation's language).
  function say(key) {
    statusLine.dataset.key = key || "";
    statusLine.textContent = key ? t(key) : "";
  }

  function sayDetail(detail, key) {
    if (typeof detail === "string" && detail) {
      statusLine.dataset.key = "";
      statusLine.textContent = detail;
    } else {
      say(key);
    }
  }

  function headers() {
    return { "Authorization": "Bearer " + token, "Content-Type": "application/json" };
  }

  function mine(view) {
    return view.direction === "inbound" || view.direction === "in";
  }

  function who(view) {
    if (mine(view)) return t("who_me");
    if (view.author === "staff") return t("who_staff");
    return t("who_bot");
  }

  function textOf(view) {
    if (mine(view)) {
      if (view.location) return t("location_shared");
      if (view.attachment) return view.text || t("file_sent");
    }
    return view.text || "";
  }

  function render(view) {
    if (mine(view) && view.kind === "command" && view.text === "/start") return;
    if (!mine(view) && view.status === "queued") return; // not sent yet
    const buttons = view.buttons || [];
    if (!textOf(view) && !view.image && !buttons.length && !view.location_request) return;
    views.set(view.id, view);
    let element = shown.get(view.id);
    const isNew = !element;
    if (isNew) {
      element = document.createElement("div");
      element.dataset.id = String(view.id);
    }
    const side = mine(view) ? "me" : view.author;
    element.className = "msg " + side;
    element.replaceChildren();
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = who(view) + ":";
    element.appendChild(label);
    const body = document.createElement("span");
    body.className = "body";
    body.textContent = textOf(view);
    element.appendChild(body);
    if (view.image) {
      const image = document.createElement("img");
      image.src = view.image;
      image.alt = t("image_alt");
      element.appendChild(image);
    }
    if (view.document) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "download";
      const kb = Math.max(1, Math.round((view.document.size_bytes || 0) / 1024));
      b.textContent = t("download", { filename: view.document.filename, kb: kb });
      b.addEventListener("click", () => download(view.id, view.document.filename));
      element.appendChild(b);
    }
    if (buttons.length || view.location_request) {
      const group = document.createElement("div");
      group.className = "buttons";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t("choices_label"));
      for (const button of buttons) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = button.title;
        b.addEventListener("click", () => send({ button: button.ref }));
        group.appendChild(b);
      }
      if (view.location_request) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = t("share_location");
        b.addEventListener("click", shareLocation);
        group.appendChild(b);
      }
      element.appendChild(group);
    }
    if (isNew) {
      shown.set(view.id, element);
      log.appendChild(element);
      log.scrollTop = log.scrollHeight;
    }
    if (!mine(view)) {
      typing.hidden = true;
    }
    lastId = Math.max(lastId, view.id || 0);
  }

  // A file the assistant sent (the copy of one's data): fetched with the token, then saved.
  async function download(id, filename) {
    try {
      const response = await fetch("/api/chat/documents/" + id, { headers: headers() });
      if (!response.ok) throw new Error(String(response.status));
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = filename;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      say("download_failed");
    }
  }

  async function ensureToken() {
    if (token) return false;
    const response = await fetch("/api/chat/session", { method: "POST" });
    if (!response.ok) {
      let detail = "";
      try { detail = (await response.json()).detail; } catch (e) { detail = ""; }
      sayDetail(detail, "session_failed");
      throw new Error("session " + response.status);
    }
    token = (await response.json()).token;
    localStorage.setItem(TOKEN_KEY, token);
    return true;
  }

  async function loadHistory() {
    const response = await fetch("/api/chat/history?after=" + lastId, { headers: headers() });
    if (!response.ok) throw new Error("history " + response.status);
    const data = await response.json();
    if (data.language) useLanguage(data.language);
    data.messages.forEach(render);
    return data;
  }

  // Messages not yet accepted by the server wait in localStorage and are retried with the
  // same client id (the server ignores duplicates).
  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]"); } catch (e) { return []; }
  }
  function saveOutbox(items) { localStorage.setItem(OUTBOX_KEY, JSON.stringify(items)); }

  async function flushOutbox() {
    let items = outbox();
    while (items.length) {
      const item = items[0];
      let response;
      try {
        response = await fetch("/api/chat/messages", {
          method: "POST", headers: headers(), body: JSON.stringify(item),
        });
      } catch (e) {
        say("offline");
        setTimeout(flushOutbox, 3000);
        return;
      }
      if (response.status === 429 && Number(response.headers.get("Retry-After") || 0) > 60) {
        // a per-address limit (e.g. urgent requests): the answer says what to do instead
        let detail = "";
        try { detail = (await response.json()).detail; } catch (e) { detail = ""; }
        sayDetail(detail, "too_many_requests");
        saveOutbox(outbox().slice(1));
        return;
      }
      if (response.status === 429) {
        say("too_fast");
        setTimeout(flushOutbox, 3000);
        return;
      }
      if (!response.ok && response.status !== 422) {
        say("not_sent");
        setTimeout(flushOutbox, 3000);
        return;
      }
      say("");
      items = outbox().slice(1);
      saveOutbox(items);
    }
  }

  function send(message) {
    const items = outbox();
    items.push(Object.assign({ client_id: clientId() }, message));
    saveOutbox(items);
    return flushOutbox();
  }

  // A photo or PDF goes straight to the server (too big to wait in localStorage); the
  // server checks size and type and says what is wrong, in the conversation's language. What is written in the
  // box goes with it as its caption (a header, percent-encoded), as on Telegram.
  async function sendFile(file) {
    if (!file) return;
    if (!file.size) {
      say("file_empty");
      return;
    }
    const caption = textarea.value.trim();
    say("file_sending");
    attachButton.disabled = true;
    try {
      const headers = { "Authorization": "Bearer " + token, "Content-Type": file.type || "application/octet-stream" };
      if (caption) headers["X-Caption"] = encodeURIComponent(caption);
      const response = await fetch("/api/chat/files?client_id=" + encodeURIComponent(clientId()), {
        method: "POST",
        headers: headers,
        body: file,
      });
      if (response.ok) {
        say("");
        if (caption && textarea.value.trim() === caption) textarea.value = "";
      } else {
        let detail = "";
        try { detail = (await response.json()).detail; } catch (e) { detail = ""; }
        sayDetail(detail, "file_failed");
      }
    } catch (e) {
      say("file_offline");
    } finally {
      attachButton.disabled = false;
      fileInput.value = "";
    }
  }

  function shareLocation() {
    if (!navigator.geolocation) {
      say("no_geolocation");
      return;
    }
    say("locating");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        say("");
        send({ location: { lat: position.coords.latitude, lon: position.coords.longitude } });
      },
      () => say("location_failed"),
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 }
    );
  }

  function showTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typing.hidden = true; }, 6000);
  }

  async function listen() {
    for (;;) {
      try {
        const response = await fetch("/api/chat/events?after=" + lastId, { headers: headers() });
        if (!response.ok || !response.body) throw new Error("events " + response.status);
        say("");
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let event = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) event = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (!data) continue;
            const payload = JSON.parse(data);
            if (event === "message") render(payload);
            else if (event === "typing") showTyping();
            else if (event === "language") useLanguage(payload.language);
          }
        }
      } catch (e) {
        say("reconnecting");
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textarea.value;
    if (!text.trim()) {
      say("empty_message");
      textarea.focus();
      return;
    }
    textarea.value = "";
    send({ text: text });
    textarea.focus();
  });

  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // The language switch: one button per language of locale/languages.yml, each in its own
  // language; a tap sends "/lingua CODE", which the gateway answers (bot/language.py), and
  // puts the page in that language at once (the events confirm it).
  function showLanguages() {
    const nav = document.getElementById("languages");
    if (tables.size < 2) return; // /lingua can still be typed
    for (const language of tables.values()) {
      const button = document.createElement("button");
      button.type = "button";
      button.lang = language.code;
      button.textContent = language.name;
      button.addEventListener("click", () => {
        useLanguage(language.code);
        send({ text: "/lingua " + language.code });
      });
      nav.appendChild(button);
    }
    nav.hidden = false;
  }

  shareButton.addEventListener("click", shareLocation);
  attachButton.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => sendFile(fileInput.files && fileInput.files[0]));

  (async function start() {
    try {
      const fresh = await ensureToken();
      await loadHistory();
      if (fresh) await send({ command: "start" });
      else flushOutbox();
    } catch (e) {
      say("unavailable");
    }
    listen();
    showLanguages();
  })();
})();
