// WEL.CO.ME console, hand-off: live queue, live chat, notifications. No build step, no inline
// scripts (CSP). Talks to /console/coda/diretta (websocket) and posts with consoleFetch().
"use strict";

(function () {
  const app = document.getElementById("handoff-app");
  if (!app) return;
  const page = app.dataset.page;
  const live = app.dataset.enabled === "1";
  const statusLine = document.getElementById("live-status");
  const data = readData();
  const alerts = (window.handoffAlerts = { notifications: 0, beeps: 0, events: 0 });
  let audio = null;

  const AUTHORS = { bot: "Assistente", gateway: "Messaggio automatico", staff: "Care Manager" };
  const STATUSES = {
    queued: "in coda", awaiting_window: "in attesa che il cittadino riscriva (WhatsApp)",
    sent: "inviato", delivered: "consegnato", read: "letto", failed: "non consegnato",
  };
  const TIME = { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Rome" };
  // delivery statuses only move forward (a late "sent" never hides "read")
  const RANK = { queued: 0, awaiting_window: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

  function readData() {
    const node = document.getElementById("handoff-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  function say(text) {
    if (statusLine) statusLine.textContent = text || "";
  }

  // --- notifications: browser Notification API and a short sound -------------------------

  const notifyButton = document.getElementById("notify-on");
  if (notifyButton) {
    notifyButton.addEventListener("click", function () {
      try {
        const Context = window.AudioContext || window.webkitAudioContext;
        if (Context && !audio) audio = new Context();
        if (audio && audio.state === "suspended") audio.resume();
      } catch (e) { audio = null; }
      if ("Notification" in window && Notification.permission === "default") {
        Notification.requestPermission().then(showPermission);
      } else {
        showPermission();
      }
    });
    showPermission();
  }

  function showPermission() {
    if (!notifyButton) return;
    const granted = "Notification" in window && Notification.permission === "granted";
    notifyButton.textContent = granted ? "Notifiche attive" : "Attiva notifiche e suono";
    notifyButton.setAttribute("aria-pressed", granted ? "true" : "false");
  }

  function beep(times) {
    alerts.beeps += 1;
    if (!audio) {
      try {
        const Context = window.AudioContext || window.webkitAudioContext;
        if (Context) audio = new Context();
      } catch (e) { return; }
    }
    if (!audio) return;
    for (let i = 0; i < times; i++) {
      const start = audio.currentTime + i * 0.25;
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = times > 1 ? 988 : 880;
      gain.gain.setValueAtTime(0.2, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.18);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.2);
    }
  }

  function announce(event) {
    const urgent = event.priority === "top";
    const text = (urgent ? "🚨 EMERGENZA: nuova" : "Nuova") +
      " conversazione in coda (n. " + event.handoff_id + ")";
    say(text);
    if (!document.title.startsWith("● ")) document.title = "● " + document.title;
    beep(urgent ? 3 : 1);
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        const note = new Notification(text, {
          body: urgent ? "Possibile emergenza: rispondi subito." : "Aprila dalla coda della console.",
          tag: "handoff-" + event.handoff_id,
          requireInteraction: urgent,
        });
        note.onclick = function () { window.focus(); note.close(); };
        alerts.notifications += 1;
      } catch (e) { /* some browsers allow notifications only from a service worker */ }
    }
  }

  window.addEventListener("focus", function () {
    document.title = document.title.replace(/^● /, "");
  });

  // --- clocks: waiting time and SLA, every second -------------------------------------------

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h >= 24) return Math.floor(h / 24) + " g " + (h % 24) + " h";
    if (h) return h + " h " + m + " min";
    if (m) return m + " min " + String(s).padStart(2, "0") + " s";
    return s + " s";
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("time[data-since]").forEach(function (node) {
      const since = Date.parse(node.getAttribute("datetime"));
      if (!isNaN(since)) node.textContent = duration((now - since) / 1000);
    });
    document.querySelectorAll(".sla[data-due]").forEach(function (node) {
      const due = Date.parse(node.dataset.due);
      const state = node.dataset.state;
      if (isNaN(due) || state === "closed_office" || state === "none") return;
      const left = (due - now) / 1000;
      node.classList.remove("sla-ok", "sla-warning", "sla-breached");
      if (left < 0) {
        node.textContent = "in ritardo di " + duration(-left);
        node.classList.add("sla-breached");
      } else {
        node.textContent = "mancano " + duration(left);
        node.classList.add(left < 300 ? "sla-warning" : "sla-ok");
      }
    });
  }
  tick();
  setInterval(tick, 1000);

  // --- the live connection ------------------------------------------------------------------

  let socket = null;
  let retry = 500;

  function connect() {
    if (!live) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams();
    if (page === "conversation") {
      params.set("handoff", app.dataset.handoff);
      params.set("after", String(lastId()));
    }
    const query = params.toString();
    socket = new WebSocket(proto + "//" + location.host + app.dataset.live + (query ? "?" + query : ""));
    socket.onopen = function () { retry = 500; };
    socket.onmessage = function (msg) {
      alerts.events += 1;
      handle(JSON.parse(msg.data));
    };
    socket.onclose = function (event) {
      if (event.code === 1008) { say("Sessione scaduta: ricarica la pagina ed entra di nuovo."); return; }
      if (event.code === 1011) { say("Aggiornamenti in diretta non disponibili."); return; }
      say("Collegamento interrotto: mi ricollego…");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }

  function handle(event) {
    if (event.type === "ready") {
      say("");
      app.dataset.connected = "1";
      return;
    }
    if (event.type === "queue") {
      if (event.event === "new") announce(event);
      if (page === "queue") refreshQueue(event.event === "activity" ? 3000 : 300);
      else if (String(event.handoff_id) === app.dataset.handoff) handoffChanged(event);
      return;
    }
    if (page !== "conversation") return;
    if (event.type === "message") upsert(event.message);
    else if (event.type === "status") setStatus(event.id, event.status);
    else if (event.type === "gone") {
      say("Questa conversazione non è più tua: è stata trasferita o chiusa.");
      disableComposer();
    }
  }

  // --- the queue page ---------------------------------------------------------------------------

  let refreshTimer = null;
  let refreshing = false;

  function refreshQueue(delay) {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      if (refreshing) { refreshQueue(300); return; }
      refreshing = true;
      window.consoleFetch(app.dataset.table, { headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null) {
            document.getElementById("queue-tables").innerHTML = html;
            tick();
          }
        })
        .finally(function () { refreshing = false; });
    }, delay);
  }

  // --- the conversation page ----------------------------------------------------------------------

  const chat = document.getElementById("chat");
  const shown = new Map();

  function lastId() {
    let last = 0;
    shown.forEach(function (_node, id) { last = Math.max(last, id); });
    return last;
  }

  function who(view) {
    if (view.direction === "inbound") return "Cittadino";
    if (view.author === "staff") {
      const names = data.staff_names || {};
      const name = view.staff_user_id != null ? names[String(view.staff_user_id)] : null;
      return name ? "Care Manager · " + name : "Care Manager";
    }
    return AUTHORS[view.author] || "Sistema";
  }

  function element(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  // «Capito male»: the citizen's message goes to the review inbox (console/handoff/misunderstood.py)
  function misunderstoodButton(id) {
    const button = element("button", "msg-misunderstood", "L'assistente ha capito male");
    button.type = "button";
    button.addEventListener("click", function () {
      button.disabled = true;
      window.consoleFetch(app.dataset.misunderstood + id + "/capito-male", { method: "POST" })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          const note = element("p", result.ok ? "hint" : "error-inline",
            result.ok ? "Segnalato per la revisione." : (result.body.detail || "Non segnalato."));
          note.setAttribute("role", "status");
          button.replaceWith(note);
        })
        .catch(function () { button.disabled = false; say("Non segnalato: controlla la connessione."); });
    });
    return button;
  }

  function upsert(view) {
    if (!chat || view.id == null) return;
    const id = Number(view.id);
    let item = shown.get(id);
    const fresh = !item;
    if (!fresh && view.direction === "outbound") {
      const known = item.querySelector(".msg-status");
      const before = known ? known.dataset.status : null;
      if (before && (RANK[before] || 0) > (RANK[view.status] || 0)) {
        view = Object.assign({}, view, { status: before });
      }
    }
    if (fresh) {
      item = element("li");
      item.dataset.id = String(id);
    }
    item.replaceChildren();
    const inbound = view.direction === "inbound";
    item.className = "msg " + (inbound ? "msg-citizen" : "msg-" + view.author);
    const head = element("p", "msg-head");
    head.appendChild(element("span", "msg-who", who(view)));
    if (view.created_at) {
      const time = element("time", "msg-time", new Date(view.created_at).toLocaleTimeString("it-IT", TIME));
      time.setAttribute("datetime", view.created_at);
      head.appendChild(time);
    }
    if (!inbound) {
      const status = element("span", "msg-status status-" + view.status, STATUSES[view.status] || view.status);
      status.dataset.status = view.status;
      head.appendChild(status);
    }
    if (view.safety) head.appendChild(element("strong", "badge badge-top", "⚠️ possibile emergenza"));
    item.appendChild(head);
    let body = view.text || "";
    if (inbound && view.kind === "location") body = "📍 Ha condiviso la sua posizione";
    if (body) item.appendChild(element("p", "msg-text", body));
    if (view.attachment && view.attachment.id != null) {
      const url = app.dataset.files + view.attachment.id;
      if (String(view.attachment.mime_type || "").startsWith("image/")) {
        const link = element("a");
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener";
        const img = element("img", "msg-photo");
        img.src = url;
        img.alt = "Foto inviata dal cittadino";
        link.appendChild(img);
        item.appendChild(link);
      } else {
        const link = element("a", "msg-file", "📄 Documento inviato dal cittadino (PDF)");
        link.href = url;
        item.appendChild(link);
      }
    } else if (inbound && view.kind === "attachment") {
      item.appendChild(element("p", "hint", "📎 File in arrivo…"));
    }
    if (inbound && view.kind === "text" && view.text) item.appendChild(misunderstoodButton(id));
    if (view.image) item.appendChild(element("p", "hint", "🖼 Immagine inviata dall'assistente"));
    if (view.buttons && view.buttons.length) {
      const list = element("ul", "msg-buttons");
      view.buttons.forEach(function (b) { list.appendChild(element("li", null, b.title)); });
      item.appendChild(list);
    }
    if (fresh) {
      shown.set(id, item);
      let before = null;
      for (const node of chat.children) {
        if (Number(node.dataset.id) > id) { before = node; break; }
      }
      chat.insertBefore(item, before);
      if (!before) item.scrollIntoView({ block: "nearest" });
    }
  }

  function setStatus(id, status) {
    const item = shown.get(Number(id));
    if (!item) return;
    const node = item.querySelector(".msg-status");
    if (!node) return;
    node.className = "msg-status status-" + status;
    node.dataset.status = status;
    node.textContent = STATUSES[status] || status;
  }

  function handoffChanged(event) {
    if (event.event === "activity" || event.event === "labels") return;
    if (event.status !== data.status || event.event === "transferred") {
      say("La conversazione è cambiata: aggiorno la pagina…");
      setTimeout(function () { location.reload(); }, 600);
    }
  }

  function disableComposer() {
    const form = document.getElementById("composer");
    if (!form) return;
    form.querySelectorAll("textarea, button, select").forEach(function (n) { n.disabled = true; });
  }

  if (page === "conversation") {
    (data.messages || []).forEach(upsert);
    if (chat && chat.lastElementChild) chat.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  const composer = document.getElementById("composer");
  if (composer) {
    const textarea = document.getElementById("reply-text");
    const error = document.getElementById("composer-error");
    const canned = document.getElementById("canned");
    if (canned) {
      canned.addEventListener("change", function () {
        const option = canned.selectedOptions[0];
        if (option && option.dataset.text) {
          textarea.value = textarea.value ? textarea.value + "\n" + option.dataset.text : option.dataset.text;
          textarea.focus();
        }
        canned.value = "";
      });
    }
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) composer.requestSubmit();
    });
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      const text = textarea.value.trim();
      if (!text) return;
      const button = document.getElementById("send");
      button.disabled = true;
      error.textContent = "";
      window.consoleFetch(app.dataset.reply, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: text }),
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          if (!result.ok) { error.textContent = result.body.detail || "Messaggio non inviato."; return; }
          upsert(result.body.message);
          textarea.value = "";
          textarea.focus();
        })
        .catch(function () { error.textContent = "Messaggio non inviato: controlla la connessione."; })
        .finally(function () { button.disabled = false; });
    });
  }

  connect();
})();
