// The live dashboard: today's consultations over HTTP, then every change over graphql-ws
// (myConsultationEvents) from the page's liveCursor, resuming after the last event seen when
// the connection drops. Where WebSockets never connect (proxies that strip Upgrade), it
// falls back to Server-Sent Events (/graphql/stream). No framework.
(() => {
  "use strict";
  const CARD = `id status startedAt connectedSeconds
    appointment { scheduledAt }
    doctor { fullName } patient { fullName }
    participants { role online state joinedAt leftAt }
    prescriptions { id createdAt medications { name } }`;
  const LIVE = `subscription Live($after: ID) { myConsultationEvents(after: $after) { id type consultation { id } } }`;
  // Asked apart from the page's cards so a 100-row page stays within the query cost limit.
  const ATTENDANCE = `attendance { doctor { from to } patient { from to } overlaps { from to } }`;
  const state = { token: null, rows: new Map(), lastEventId: null, client: null, fetchedAt: new Map(), overSse: false, wsConnected: false, wsFailures: 0 };
  const $ = (id) => document.getElementById(id);

  async function gql(query, variables) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${state.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (body.errors) throw new Error(body.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join("; "));
    return body.data;
  }

  async function loadToday() {
    const from = new Date(); from.setHours(0, 0, 0, 0);
    const to = new Date(from.getTime() + 86_400_000);
    const filter = { from: from.toISOString(), to: to.toISOString() };
    const data = await gql(`query Today($filter: ConsultationFilter) { consultations(filter: $filter, first: 100) { edges { node { ${CARD} } } liveCursor } }`, { filter });
    for (const { node } of data.consultations.edges) remember(node);
    state.lastEventId ??= data.consultations.liveCursor; // changes after this page, none missed
    const ledgers = await gql(`query TodayAttendance($filter: ConsultationFilter) { consultations(filter: $filter, first: 100) { edges { node { id ${ATTENDANCE} } } } }`, { filter });
    for (const { node } of ledgers.consultations.edges) if (state.rows.has(node.id)) state.rows.get(node.id).attendance = node.attendance;
    render();
  }

  async function refresh(id) {
    const data = await gql(`query One($id: ID!) { consultation(id: $id) { ${CARD} ${ATTENDANCE} } }`, { id });
    if (data.consultation) remember(data.consultation);
    render();
  }

  function remember(c) {
    state.rows.set(c.id, c);
    state.fetchedAt.set(c.id, Date.now());
  }

  function subscribe() {
    if (state.overSse) return subscribeOverSse();
    state.client ??= graphqlWs.createClient({
      url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
      connectionParams: () => ({ authorization: `Bearer ${state.token}` }),
      retryAttempts: Infinity,
      shouldRetry: () => true,
      on: {
        connected: () => {
          state.wsConnected = true;
          status("Live.");
        },
        closed: (event) => {
          if (!state.wsConnected && ++state.wsFailures >= 2) return fallBackToSse();
          status(`Connection lost (${event.code}); reconnecting…`);
        },
      },
    });
    state.client.subscribe({ query: LIVE, variables: { after: state.lastEventId } }, sink("ws"));
  }

  function fallBackToSse() {
    state.overSse = true;
    const client = state.client;
    state.client = null;
    // Disposed after graphql-ws has finished handling the close that brought us here; a
    // connection attempt it rejects on the way out is expected, not a page error.
    setTimeout(() => Promise.resolve(client.dispose()).catch(() => undefined), 0);
    subscribe();
  }

  function subscribeOverSse() {
    state.client ??= graphqlSse.createClient({
      url: "/graphql/stream",
      // Called on every (re)connect: graphql-sse repeats the first request, the server resumes after Last-Event-ID.
      headers: () => ({ authorization: `Bearer ${state.token}`, ...(state.lastEventId ? { "last-event-id": state.lastEventId } : {}) }),
      retryAttempts: Infinity,
      on: { connected: () => status("Live (Server-Sent Events).") },
    });
    state.client.subscribe({ query: LIVE, variables: { after: state.lastEventId } }, sink("sse"));
  }

  /** Each event refreshes its row; an ended subscription resumes after the last event seen, on the current transport. */
  function sink(transport) {
    const again = () => {
      if ((state.overSse ? "sse" : "ws") === transport) setTimeout(subscribe, 1000);
    };
    return {
      next: ({ data }) => {
        if (!data) return;
        state.lastEventId = data.myConsultationEvents.id;
        refresh(data.myConsultationEvents.consultation.id).catch((e) => status(e.message));
      },
      error: again,
      complete: again,
    };
  }

  function connected(c) {
    const base = c.connectedSeconds ?? 0;
    const both = c.participants.every((p) => p.online);
    const elapsed = both && c.status === "ACTIVE" ? Math.floor((Date.now() - state.fetchedAt.get(c.id)) / 1000) : 0;
    const s = base + elapsed;
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function presence(c) {
    const doctor = c.participants.find((p) => p.role === "DOCTOR");
    const patient = c.participants.find((p) => p.role === "PATIENT");
    if (patient.online && !doctor.online && c.status === "PENDING") return `<span class="waiting">Patient waiting</span>`;
    const who = c.participants.filter((p) => p.online).map((p) => p.role.toLowerCase());
    const back = c.participants.filter((p) => p.state === "RECONNECTING").map((p) => `<span class="reconnecting">${p.role.toLowerCase()} reconnecting…</span>`);
    const inRoom = who.length ? `<span class="online">${who.join(" + ")}</span>` : back.length ? "" : `<span class="muted">nobody</span>`;
    return [inRoom, ...back].filter(Boolean).join(" ");
  }

  // One bar per consultation: the doctor's intervals above, the patient's below, the billed overlaps across both.
  function attendanceBar(c) {
    const a = c.attendance;
    if (!a || (a.doctor.length === 0 && a.patient.length === 0)) return '<span class="muted">—</span>';
    const now = Date.now();
    const end = (i) => (i.to ? Date.parse(i.to) : now);
    const all = [...a.doctor, ...a.patient];
    const t0 = Math.min(...all.map((i) => Date.parse(i.from)));
    const span = Math.max(1, Math.max(...all.map(end)) - t0);
    const pieces = (list, cls) => list
      .map((i) => `<i class="${cls}" data-left="${((Date.parse(i.from) - t0) / span) * 100}" data-width="${Math.max(0.5, ((end(i) - Date.parse(i.from)) / span) * 100)}"></i>`)
      .join("");
    return `<div class="bar" title="doctor (top), patient (bottom), both (highlighted)">${pieces(a.overlaps, "both")}${pieces(a.doctor, "doctor")}${pieces(a.patient, "patient")}</div>`;
  }

  const escape = (text) => String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

  function render() {
    const rows = [...state.rows.values()].sort((a, b) => a.appointment.scheduledAt.localeCompare(b.appointment.scheduledAt));
    $("consultations").hidden = rows.length === 0;
    $("empty").hidden = rows.length !== 0;
    $("consultations").querySelector("tbody").innerHTML = rows
      .map(
        (c) => `<tr data-id="${c.id}">
          <td>${new Date(c.appointment.scheduledAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}</td>
          <td>${escape(c.patient.fullName)}</td><td>${escape(c.doctor.fullName)}</td>
          <td class="status ${c.status}">${c.status}</td>
          <td class="presence">${presence(c)}</td>
          <td class="connected">${connected(c)}</td>
          <td class="attendance">${attendanceBar(c)}</td>
          <td>${c.prescriptions.map((p) => escape(p.medications.map((m) => m.name).join(", "))).join("<br>") || '<span class="muted">—</span>'}</td>
        </tr>`,
      )
      .join("");
    // The CSP allows no inline style attributes; positions are set through the CSSOM instead.
    for (const piece of document.querySelectorAll(".bar i")) {
      piece.style.left = `${piece.dataset.left}%`;
      piece.style.width = `${piece.dataset.width}%`;
    }
  }

  function status(text) {
    $("connection").textContent = text;
  }

  $("connect").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("token").value.trim().replace(/^Bearer\s+/i, "");
    status("Loading…");
    loadToday()
      .then(() => {
        subscribe();
        setInterval(render, 1000); // the connected time ticks
      })
      .catch((e) => status(e.message));
  });
})();
