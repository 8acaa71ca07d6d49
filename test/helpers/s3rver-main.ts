// A real S3-compatible server for tests (s3rver), as its own process so a test can
// stop it and start it again: bun s3rver-main.ts PORT DIR BUCKET
import S3rver from "s3rver";

const [port, directory, bucket] = process.argv.slice(2);
const server = new S3rver({ port: Number(port), address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: bucket!, configs: [] }] });
const info = await server.run();
console.log(`s3rver listening on ${info.port}`);
process.on("SIGTERM", () => void server.close().finally(() => process.exit(0)));
