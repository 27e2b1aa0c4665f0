// The live dashboard: the shift's consultations (today, and at least the last six hours) over HTTP, then every change over graphql-ws
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
  // The front desk's fields: who waits, who runs late, who never came, why each side left, call quality.
  const DESK = `endedAt endReason waiting { role fullName since seconds } runningLate { minutes expectedStartAt }
    noShow { absent waitedSeconds }
    desk: participants { role leftReason leftReasonDetail quality { latest lowest poorShare } }`;
  const SHIFT_MS = 6 * 3_600_000;
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
    // A desk's shift crosses midnight (telehealth runs at night): today, and at least the last
    // six hours, so a patient who came at 23:58 is still on the page at 00:03.
    const dayStart = new Date(); dayStart.setHours(0, 0, 0, 0);
    const from = new Date(Math.min(dayStart.getTime(), Date.now() - SHIFT_MS));
    const to = new Date(dayStart.getTime() + 86_400_000);
    const filter = { from: from.toISOString(), to: to.toISOString() };
    const data = await gql(`query Today($filter: ConsultationFilter) { consultations(filter: $filter, first: 100) { edges { node { ${CARD} } } liveCursor } }`, { filter });
    for (const { node } of data.consultations.edges) remember(node);
    state.lastEventId ??= data.consultations.liveCursor; // changes after this page, none missed
    const [ledgers, desks] = await Promise.all([
      gql(`query TodayAttendance($filter: ConsultationFilter) { consultations(filter: $filter, first: 100) { edges { node { id ${ATTENDANCE} } } } }`, { filter }),
      gql(`query TodayDesk($filter: ConsultationFilter) { consultations(filter: $filter, first: 100) { edges { node { id ${DESK} } } } }`, { filter }),
    ]);
    for (const { node } of [...ledgers.consultations.edges, ...desks.consultations.edges]) if (state.rows.has(node.id)) Object.assign(state.rows.get(node.id), node);
    render();
  }

  async function refresh(id) {
    const data = await gql(`query One($id: ID!) { consultation(id: $id) { ${CARD} ${ATTENDANCE} ${DESK} } }`, { id });
    if (data.consultation) remember(data.consultation);
    render();
  }

  function remember(c) {
    state.rows.set(c.id, c);
    state.fetchedAt.set(c.id, Date.now());
  }

  const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const minutes = (s) => `${Math.max(0, Math.floor(s / 60))} min`;
  const REASONS = { LEFT: "left", REMOVED: "removed", NETWORK: "dropped", JOIN_FAILED: "could not join", CALL_ENDED: "call ended", OTHER: "gone" };
  const deskOf = (c, role) => (c.desk ?? []).find((p) => p.role === role) ?? {};
  /** Seconds waited now: the server's count when fetched, ticking since. */
  const waitedNow = (c) => (c.waiting ? c.waiting.seconds + Math.floor((Date.now() - state.fetchedAt.get(c.id)) / 1000) : -1);

  function waiting(c) {
    if (!c.waiting) return '<span class="muted">—</span>';
    return `<span class="waiting">${escape(c.waiting.fullName)}, waiting ${minutes(waitedNow(c))}</span>`;
  }

  function when(c) {
    const booked = `<span>${clock(c.appointment.scheduledAt)}</span>`;
    const late = c.runningLate ? `<br><span class="late">running ${c.runningLate.minutes} min late · expected ${clock(c.runningLate.expectedStartAt)}</span>` : "";
    return booked + late;
  }

  function status(c) {
    const noShow = c.noShow ? `<br><span class="noshow">No-show: ${c.noShow.absent.toLowerCase()}${c.noShow.absent === "BOTH" ? "" : ` (${c.noShow.absent === "DOCTOR" ? "patient" : "doctor"} waited ${minutes(c.noShow.waitedSeconds)})`}</span>` : "";
    const times = c.startedAt ? `<br><span class="times">${clock(c.startedAt)}–${c.endedAt ? clock(c.endedAt) : "now"}</span>` : "";
    const why = c.endReason ? ` title="ended: ${c.endReason.toLowerCase().replace("_", " ")}"` : "";
    return `<span class="status-text"${why}>${c.status}</span>${noShow}${times}`;
  }

  /** Why a side that is out of the room left: a short word, 100ms's own in the tooltip. */
  function departures(c) {
    return c.participants
      .filter((p) => !p.online && p.state !== "RECONNECTING" && deskOf(c, p.role).leftReason)
      .map((p) => {
        const d = deskOf(c, p.role);
        const title = `${p.role.toLowerCase()}: ${REASONS[d.leftReason] ?? "gone"}${d.leftReasonDetail ? ` (${d.leftReasonDetail})` : ""}`;
        return `<span class="left" title="${escape(title)}">${p.role.toLowerCase()} ${REASONS[d.leftReason] ?? "gone"}</span>`;
      });
  }

  function quality(c) {
    const badges = ["DOCTOR", "PATIENT"].flatMap((role) => {
      const q = deskOf(c, role).quality;
      if (!q) return [];
      const level = q.latest <= 2 ? "poor" : q.latest === 3 ? "fair" : "good";
      const title = `${role.toLowerCase()}: now ${q.latest}/5, lowest ${q.lowest}, poor for ${Math.round(q.poorShare * 100)}% of the call`;
      return [`<span class="q q-${level}" title="${escape(title)}">${role[0]} ${q.latest}/5</span>`];
    });
    return badges.join(" ") || '<span class="muted">—</span>';
  }

  /** Longest waiting first (sorted by the server's `since`), then by the booked time. */
  function byWaitThenTime(a, b) {
    if (a.waiting || b.waiting) {
      if (!a.waiting) return 1;
      if (!b.waiting) return -1;
      return a.waiting.since.localeCompare(b.waiting.since);
    }
    return a.appointment.scheduledAt.localeCompare(b.appointment.scheduledAt);
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
          say("Live.");
        },
        closed: (event) => {
          if (!state.wsConnected && ++state.wsFailures >= 2) return fallBackToSse();
          say(`Connection lost (${event.code}); reconnecting…`);
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
      on: { connected: () => say("Live (Server-Sent Events).") },
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
        refresh(data.myConsultationEvents.consultation.id).catch((e) => say(e.message));
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
    const gone = departures(c);
    const inRoom = who.length ? `<span class="online">${who.join(" + ")}</span>` : back.length || gone.length ? "" : `<span class="muted">nobody</span>`;
    return [inRoom, ...back, ...gone].filter(Boolean).join(" ");
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
    const rows = [...state.rows.values()].sort(byWaitThenTime);
    $("consultations").hidden = rows.length === 0;
    $("legend").hidden = rows.length === 0;
    $("empty").hidden = rows.length !== 0;
    $("consultations").querySelector("tbody").innerHTML = rows
      .map(
        (c) => `<tr data-id="${c.id}">
          <td class="when">${when(c)}</td>
          <td>${escape(c.patient.fullName)}</td><td>${escape(c.doctor.fullName)}</td>
          <td class="status ${c.status}">${status(c)}</td>
          <td class="presence">${presence(c)}</td>
          <td class="waiting-cell">${waiting(c)}</td>
          <td class="quality">${quality(c)}</td>
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

  function say(text) {
    $("connection").textContent = text;
  }

  $("connect").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("token").value.trim().replace(/^Bearer\s+/i, "");
    say("Loading…");
    loadToday()
      .then(() => {
        subscribe();
        setInterval(render, 1000); // the connected and waiting times tick
      })
      .catch((e) => say(e.message));
  });
})();
