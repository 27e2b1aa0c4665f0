-- A room's last delivery (read on every webhook batch) is then the index's last entry for the
-- room instead of a visit to every row the room ever had. Built before the old index goes, so
-- the room's lookups always have one. The build reads the inbox once and holds its writes back
-- meanwhile (other instances' deliveries wait for it).
CREATE INDEX "hms_webhook_events_room_received_idx" ON "hms_webhook_events" USING btree ("room_id","received_at");--> statement-breakpoint
DROP INDEX "hms_webhook_events_room_idx";
