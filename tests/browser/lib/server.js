// A real Parlor server for one test file: the binary (PARLOR_BIN, else <repo>/target/debug/parlor)
// on a free port, with a database and uploads in a temporary folder, a low bcrypt cost, and
// `server.assets_dir` at the checkout, so the pages and the client are read from this tree on
// every request. It can be killed (SIGKILL) and started again on the same port and database.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root, from this file's place in it (tests/browser/lib/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The server binary the tests run. */
export const binary = process.env.PARLOR_BIN ?? path.join(repoRoot, "target/debug/parlor");

/** A port nothing listens on right now. */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  server.close();
  await once(server, "close");
  return port;
}

/** Limits generous enough for tests that chat quickly (the defaults: config.toml). */
const TEST_ENV = {
  PARLOR__AUTH__BCRYPT_COST: "4",
  PARLOR__LIMITS__MESSAGES_PER_WINDOW: "1000",
  PARLOR__LIMITS__AUTH_ATTEMPTS_PER_IP_PER_MINUTE: "1000",
  PARLOR__LIMITS__LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE: "1000",
  PARLOR__LIMITS__WS_UPGRADES_PER_IP_PER_MINUTE: "1000",
  PARLOR__LIMITS__API_REQUESTS_PER_MINUTE: "10000",
  PARLOR__LIMITS__USER_SEARCHES_PER_MINUTE: "1000",
};

export class ParlorServer {
  /**
   * Starts a server; `env` adds or overrides configuration (PARLOR__SECTION__KEY).
   * @param {Record<string, string>} [env]
   */
  static async start(env = {}) {
    const server = new ParlorServer(await mkdtemp(path.join(tmpdir(), "parlor-browser-")), await freePort(), env);
    await server.launch();
    return server;
  }

  /**
   * @param {string} dir
   * @param {number} port
   * @param {Record<string, string>} env
   */
  constructor(dir, port, env) {
    this.dir = dir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.env = {
      ...process.env,
      ...TEST_ENV,
      PARLOR__SERVER__BIND: `127.0.0.1:${port}`,
      PARLOR__SERVER__ASSETS_DIR: repoRoot,
      PARLOR__DATABASE__URL: `sqlite://${path.join(dir, "parlor.db")}`,
      PARLOR__UPLOADS__DIR: path.join(dir, "uploads"),
      RUST_LOG: process.env.RUST_LOG ?? "warn",
      ...env,
    };
    /** @type {import("node:child_process").ChildProcess | null} */
    this.child = null;
    this.starts = 0;
  }

  /** Starts the binary and waits until `/health` answers 200. */
  async launch() {
    this.starts++;
    const log = createWriteStream(path.join(this.dir, `server-${this.starts}.log`));
    await once(log, "open");
    const child = spawn(binary, [], { cwd: this.dir, env: this.env, stdio: ["ignore", log, log] });
    this.child = child;
    // A test process that ends without its after() hook leaves no server behind.
    const orphan = () => child.kill("SIGKILL");
    process.once("exit", orphan);
    child.once("exit", () => process.removeListener("exit", orphan));
    const exited = once(child, "exit").then(([code, signal]) => { throw new Error(
      `parlor exited (${code ?? signal}) before answering /health; see ${this.logFile()}`); });
    exited.catch(() => {});
    const deadline = Date.now() + 30_000;
    for (;;) {
      const healthy = await fetch(this.url("/health")).then((r) => r.ok, () => false);
      if (healthy) return;
      if (child.exitCode !== null || child.signalCode !== null) await exited;
      if (Date.now() > deadline) throw new Error(`parlor did not answer /health in 30 s; see ${this.logFile()}`);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
  }

  logFile() {
    return path.join(this.dir, `server-${this.starts}.log`);
  }

  /** The server's log of its latest start (for failure messages). */
  async log() {
    return readFile(this.logFile(), "utf8").catch(() => "");
  }

  /** SIGKILL: no shutdown, no goodbye to the sockets; waits until the process is gone. */
  async kill() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exit = once(child, "exit");
    child.kill("SIGKILL");
    await exit;
  }

  /** Kills the server and starts it again on the same port, database and uploads. */
  async restart() {
    await this.kill();
    await this.launch();
  }

  /** Kills the server and deletes its folder. */
  async stop() {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** @param {string} path */
  url(path) {
    return this.base + path;
  }

  /**
   * A JSON REST call from the test itself. Throws on an error status, with the body.
   * @param {string} method
   * @param {string} path under /api/v1
   * @param {unknown} [body]
   * @param {string} [token]
   */
  async api(method, path, body, token) {
    const headers = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(this.url("/api/v1" + path), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return parsed;
  }

  /**
   * Registers a user `name` (email name@example.com, password "password <name>"); answers
   * the token response plus the password.
   * @param {string} name
   * @param {string} [displayName]
   */
  async register(name, displayName) {
    const password = `password ${name}`;
    const tokens = await this.api("POST", "/auth/register", {
      email: `${name}@example.com`, username: name, password, display_name: displayName ?? null,
    });
    return { ...tokens, password };
  }

  /**
   * Creates a user with the CLI (`parlor user create`), as an operator would, on this
   * server's database while it runs; answers its password too.
   * @param {string} name username; email name@example.com, password "password <name>"
   * @param {"customer" | "agent" | "admin"} role
   * @param {{ instanceAdmin?: boolean, displayName?: string }} [options]
   */
  async createUser(name, role, options = {}) {
    const password = `password ${name}`;
    const args = ["user", "create", "--email", `${name}@example.com`, "--username", name,
      "--password", password, "--role", role];
    if (options.displayName) args.push("--display-name", options.displayName);
    if (options.instanceAdmin) args.push("--instance-admin");
    const child = spawn(binary, args, { cwd: this.dir, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => { out += chunk; });
    child.stderr.on("data", (chunk) => { err += chunk; });
    const [code] = await once(child, "exit");
    if (code !== 0) throw new Error(`parlor ${args.join(" ")}: exit ${code}: ${err}`);
    return { ...JSON.parse(out), password };
  }
}
