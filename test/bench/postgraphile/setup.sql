-- The peer's database side, applied by the bench (scenario 12) to its throw-away database only,
-- after the API's migrations and the seed. Row-level security as PostGraphile's documentation
-- recommends: PostGraphile connects as a login role without privileges of its own
-- (__AUTHENTICATOR__, NOINHERIT), and each request runs `set local role __VIEWER__` with the
-- verified token's subject in `jwt.claims.user_id` (server.mjs' pgSettings); policies read
-- that setting through STABLE helper functions, wrapped in `(select …)` so that each runs once
-- per statement (an InitPlan), not once per row; the helpers that read the people tables are
-- SECURITY DEFINER (no policy recursion).
--
-- Scopes, the same three as the API's: a doctor sees their own consultations (via
-- doctors.user_id), a patient their own (via patients.user_id), an admin all; and what hangs off
-- a visible consultation (its appointment, presence, timeline). People: everyone signed in sees
-- themselves and the doctors; a doctor also sees their patients; an admin everyone.
--
-- The role names are per bench database (the bench replaces __AUTHENTICATOR__ and __VIEWER__,
-- and __PASSWORD__ with a random one) and dropped with it: roles are the one thing PostgreSQL
-- keeps outside a database.

CREATE ROLE __AUTHENTICATOR__ LOGIN NOINHERIT PASSWORD '__PASSWORD__';
CREATE ROLE __VIEWER__ NOLOGIN;
GRANT __VIEWER__ TO __AUTHENTICATOR__;

-- Not exposed by PostGraphile (only `public` is).
CREATE SCHEMA bench_pgl_private;
GRANT USAGE ON SCHEMA bench_pgl_private TO __VIEWER__;

CREATE FUNCTION bench_pgl_private.current_user_id() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('jwt.claims.user_id', true), '')::uuid $$;

CREATE FUNCTION bench_pgl_private.current_doctor_id() RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT id FROM doctors WHERE user_id = bench_pgl_private.current_user_id() $$;

CREATE FUNCTION bench_pgl_private.current_patient_id() RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT id FROM patients WHERE user_id = bench_pgl_private.current_user_id() $$;

CREATE FUNCTION bench_pgl_private.current_user_is_admin() RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT coalesce((SELECT role = 'admin' FROM users WHERE id = bench_pgl_private.current_user_id()), false) $$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA bench_pgl_private TO __VIEWER__;

-- Only what the screens read: PostGraphile's RBAC plugin leaves every other table (and every
-- mutation) out of its schema.
GRANT SELECT ON users, doctors, patients, appointments, video_consultations, consultation_live, consultation_events TO __VIEWER__;

ALTER TABLE video_consultations ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_pgl_select ON video_consultations FOR SELECT TO __VIEWER__ USING (
  doctor_id = (SELECT bench_pgl_private.current_doctor_id())
  OR patient_id = (SELECT bench_pgl_private.current_patient_id())
  OR (SELECT bench_pgl_private.current_user_is_admin())
);

ALTER TABLE appointments ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_pgl_select ON appointments FOR SELECT TO __VIEWER__ USING (
  doctor_id = (SELECT bench_pgl_private.current_doctor_id())
  OR patient_id = (SELECT bench_pgl_private.current_patient_id())
  OR (SELECT bench_pgl_private.current_user_is_admin())
);

ALTER TABLE consultation_live ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_pgl_select ON consultation_live FOR SELECT TO __VIEWER__ USING (
  EXISTS (SELECT 1 FROM video_consultations vc WHERE vc.id = consultation_live.consultation_id)
);

ALTER TABLE consultation_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_pgl_select ON consultation_events FOR SELECT TO __VIEWER__ USING (
  EXISTS (SELECT 1 FROM video_consultations vc WHERE vc.id = consultation_events.consultation_id)
);

ALTER TABLE doctors ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_pgl_select ON doctors FOR SELECT TO __VIEWER__ USING (
  (SELECT bench_pgl_private.current_user_id()) IS NOT NULL
);

ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_pgl_select ON patients FOR SELECT TO __VIEWER__ USING (
  user_id = (SELECT bench_pgl_private.current_user_id())
  OR (SELECT bench_pgl_private.current_user_is_admin())
  OR EXISTS (SELECT 1 FROM appointments a WHERE a.patient_id = patients.id AND a.doctor_id = (SELECT bench_pgl_private.current_doctor_id()))
);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY bench_pgl_select ON users FOR SELECT TO __VIEWER__ USING (
  id = (SELECT bench_pgl_private.current_user_id())
  OR role = 'doctor'
  OR (SELECT bench_pgl_private.current_user_is_admin())
  OR EXISTS (SELECT 1 FROM patients p WHERE p.user_id = users.id)
);

-- Ordered like the API's `consultations` (by the appointment's time, then id): server.mjs adds a
-- SCHEDULED_AT order with postgraphile/utils' addPgTableOrderBy, an inline subquery. (A computed
-- column with the `+orderBy` behavior also works, but PostgreSQL cannot inline a scalar SQL
-- function that reads a table: it ran once per row, appointments' policy with it, 70 ms a page.)

-- The timeline as the API's `Consultation.events` shows it: oldest first, without retracted
-- events and their retractions.
CREATE FUNCTION video_consultations_timeline(c video_consultations) RETURNS SETOF consultation_events
  LANGUAGE sql STABLE
  AS $$
    SELECT e.* FROM consultation_events e
    WHERE e.consultation_id = c.id
      AND e.type <> 'EVENT_RETRACTED'
      AND NOT EXISTS (SELECT 1 FROM consultation_events r WHERE r.retracts_id = e.id)
    ORDER BY e.id
  $$;
COMMENT ON FUNCTION video_consultations_timeline(video_consultations) IS E'The timeline, oldest first, without retracted events and their retractions.';

GRANT EXECUTE ON FUNCTION video_consultations_timeline(video_consultations) TO __VIEWER__;
