CREATE TABLE "call_quality" (
	"consultation_id" uuid NOT NULL,
	"side" text NOT NULL,
	"latest" integer NOT NULL,
	"lowest" integer NOT NULL,
	"reports" integer DEFAULT 1 NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	"reported_ms" bigint DEFAULT 0 NOT NULL,
	"poor_ms" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "call_quality_consultation_id_side_pk" PRIMARY KEY("consultation_id","side"),
	CONSTRAINT "call_quality_scores_check" CHECK ("call_quality"."latest" BETWEEN 0 AND 5 AND "call_quality"."lowest" BETWEEN 0 AND 5)
);
--> statement-breakpoint
CREATE TABLE "consultation_delays" (
	"consultation_id" uuid PRIMARY KEY NOT NULL,
	"minutes" integer NOT NULL,
	"announcements" integer DEFAULT 1 NOT NULL,
	"announced_by" uuid,
	"announced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consultation_delays_minutes_check" CHECK ("consultation_delays"."minutes" BETWEEN 0 AND 120)
);
--> statement-breakpoint
ALTER TABLE "consultation_events" DROP CONSTRAINT "consultation_events_type_check";--> statement-breakpoint
ALTER TABLE "consultation_closures" ADD COLUMN "cause" text;--> statement-breakpoint
ALTER TABLE "consultation_closures" ADD COLUMN "no_show" text;--> statement-breakpoint
ALTER TABLE "consultation_closures" ADD COLUMN "waited_seconds" integer;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "leave_cause" text;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "leave_detail" text;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "delay_minutes" integer;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD COLUMN "quality_score" integer;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "doctor_left_cause" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "doctor_left_detail" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "patient_left_cause" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "patient_left_detail" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "waiting_side" text;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD COLUMN "waiting_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "hms_sessions" ADD COLUMN "room_end_reason" text;--> statement-breakpoint
ALTER TABLE "hms_sessions" ADD COLUMN "room_ended_by" text;--> statement-breakpoint
ALTER TABLE "call_quality" ADD CONSTRAINT "call_quality_consultation_id_video_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."video_consultations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consultation_delays" ADD CONSTRAINT "consultation_delays_consultation_id_video_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."video_consultations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consultation_events" ADD CONSTRAINT "consultation_events_type_check" CHECK ("consultation_events"."type" IN ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT', 'PARTICIPANT_OFFLINE', 'STATUS_CHANGED', 'PRESCRIPTION_CREATED', 'EVENT_RETRACTED', 'PARTICIPANT_JOIN_FAILED', 'NO_SHOW', 'RUNNING_LATE', 'CALL_QUALITY_CHANGED'));