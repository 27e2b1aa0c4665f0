/** The 100ms workspace the stand-in and the baseline use (the same values as test/support/hms-env.ts). */
export const HMS_CREDS = { accessKey: "64ef0ea4ca5848f0e3d4663a", appSecret: "test-app-secret-0123456789abcdef0123456789" };
export const HMS_TEMPLATE = "6512f0c1a7b3c2d4e5f60718";
