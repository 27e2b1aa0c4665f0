import { describe, expect, it } from "vitest";
import { databaseLocation, describeStartFailure } from "../../src/config/start-failure.js";

const config = { port: 4000, host: "0.0.0.0", database: { url: "postgres://api:s3cret-pw@db.internal:6543/clinic", poolMax: 10, embeddedDataDir: "./.data", queryTimeoutMs: 5000, listenHeartbeatMs: 2000 } };
const failure = (props: Record<string, unknown>, message = "boom") => Object.assign(new Error(message), props);

describe("describeStartFailure", () => {
  it("names PORT when the port is taken or not allowed", () => {
    expect(describeStartFailure(failure({ code: "EADDRINUSE", syscall: "listen" }), config)).toMatch(/^PORT 4000 is in use: set PORT/);
    expect(describeStartFailure(failure({ code: "EACCES", syscall: "listen" }), config)).toContain("set PORT");
    expect(describeStartFailure(failure({ code: "EADDRNOTAVAIL", syscall: "listen" }), config)).toContain("set HOST");
  });

  it("names the database (host, port, name; no credentials) and DATABASE_URL when it cannot be reached or refuses", () => {
    for (const error of [
      failure({ code: "ECONNREFUSED", syscall: "connect" }),
      failure({ code: "ENOTFOUND", syscall: "getaddrinfo" }),
      failure({ code: "CONNECT_TIMEOUT" }),
      Object.assign(failure({ code: "28P01" }, 'password authentication failed for user "api"'), { name: "PostgresError" }),
      Object.assign(failure({ code: "3D000" }, 'database "clinic" does not exist'), { name: "PostgresError" }),
    ]) {
      const text = describeStartFailure(error, config);
      expect(text).toContain("db.internal:6543/clinic");
      expect(text).toMatch(/check DATABASE_URL$/);
      expect(text).not.toContain("s3cret-pw");
    }
  });

  it("keeps any other failure's own message", () => {
    expect(describeStartFailure(failure({ code: "42P01" }, "relation x does not exist"), config)).toBe("relation x does not exist");
    expect(describeStartFailure(failure({ code: "ECONNREFUSED" }), { ...config, database: { ...config.database, url: undefined } })).toBe("boom");
  });

  it("shows where a database URL points, defaulting the port", () => {
    expect(databaseLocation("postgresql://u:p@localhost/app")).toBe("localhost:5432/app");
    expect(databaseLocation("not a url")).not.toContain("not a url");
  });
});
