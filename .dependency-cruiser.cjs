/**
 * The architecture rules CI enforces (`npm run lint:deps`): dependencies run one way,
 * transport/resolvers -> services (use cases) -> repos -> db, and no file imports in a circle.
 * Folders form layers too (no folder reaches itself through another): `npm run lint:layers`
 * (.ci/folder-layers.mjs) checks that over value imports.
 * README, "Architecture", explains each folder and what it may import.
 */
const DOMAIN = "^src/(audit|clinic|consultations|live|prescriptions|webhooks|dashboard|demo)/";
const REPO = "(\\.repo\\.ts$|^src/app/repos\\.ts$)";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes every file in it depend on all the others: break it by moving the shared piece down.",
      from: {},
      to: { circular: true },
    },
    {
      name: "resolvers-use-services",
      severity: "error",
      comment: "Resolvers ask a service (or the context's loaders); they never reach a repository.",
      from: { path: "\\.resolver\\.ts$" },
      to: { path: REPO },
    },
    {
      name: "http-uses-services",
      severity: "error",
      comment: "HTTP and WebSocket code hands requests to services; it never reaches a repository.",
      from: { path: ["^src/app/server\\.ts$", "^src/http/", "\\.route\\.ts$", "^src/transport/"] },
      to: { path: REPO },
    },
    {
      name: "no-graphql-in-use-cases",
      severity: "error",
      comment: "Services and repositories are called by webhooks, timers and tests too: they know nothing of type-graphql.",
      from: { path: ["\\.service\\.ts$", "\\.repo\\.ts$", "^src/app/repos\\.ts$"] },
      to: { path: "node_modules/type-graphql/" },
    },
    {
      name: "infrastructure-knows-no-domain",
      severity: "error",
      comment: "db/, hms/ and kit/ are infrastructure: they import no domain folder.",
      from: { path: "^src/(db|hms|kit)/" },
      to: { path: DOMAIN },
    },
    {
      name: "nothing-at-the-top",
      severity: "error",
      comment: "Every file of src/ lives in a folder: composition in app/, utilities in kit/, settings in config/.",
      from: { path: "^src/[^/]+\\.ts$" },
      to: {},
    },
    {
      name: "src-never-imports-test",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^test/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
