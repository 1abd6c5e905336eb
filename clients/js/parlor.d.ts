// Types of parlor.js (clients/js/README.md). The shapes are those of docs/PROTOCOL.md §4.

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface ParlorClientOptions {
  /** "" (default): the page's own origin; else "http://host:port". */
  baseUrl?: string;
  /** Start signed in with this pair (or a token response). */
  tokens?: Tokens;
  /** Where the token pair is kept across reloads (default: memory only). */
  storage?: Storage | null;
  /** The key in `storage` (default "parlor.tokens"). */
  storageKey?: string;
  /** Asked for a new pair when the access token expires and there is no refresh token
   *  (a token minted by the project's backend, docs/SERVER_API.md). */
  getTokens?: (() => Promise<Tokens>) | null;
  /** Jittered exponential backoff between reconnects (500 ms doubling up to 30 s). */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** At most one typing:start per conversation per period (3000 ms). */
  typingThrottleMs?: number;
  /** typing:stop is sent this long after the last typing() call (4000 ms). */
  typingIdleMs?: number;
  /** Sends waiting for their acks at once; one more is refused with `queue_full` (100). */
  maxPendingSends?: number;
  /** Outgoing frame pacing, a little under the server's realtime.commands_per_second (20)
   *  and commands_burst (40): 16 a second in bursts of 32; replies awaited at once (100, under
   *  realtime.max_in_flight, 128) and frames queued (1000, past it `queue_full`). */
  frames?: { perSecond?: number; burst?: number; maxInFlight?: number; maxQueued?: number };
}

export interface Tokens {
  access_token: string;
  refresh_token?: string | null;
  expires_in?: number;
}

export interface TokenState {
  access_token: string;
  refresh_token: string | null;
  /** The access token's expiry, milliseconds since the epoch (null: unknown). */
  expires_at: number | null;
}

export interface User {
  id: number;
  email: string | null;
  username: string | null;
  display_name: string | null;
  role: "admin" | "agent" | "customer";
  disabled: boolean;
  created_at: string;
  project_id: number;
  instance_admin: boolean;
  external_id: string | null;
}

/** An entry of the user directory (GET /api/v1/users). */
export interface DirectoryUser {
  id: number;
  username: string | null;
  display_name: string | null;
  role: "admin" | "agent" | "customer";
  online: boolean;
  last_seen_at: string | null;
}

export interface TokenResponse {
  user: User;
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
}

export interface Attachment {
  id: number;
  content_type: string;
  size: number;
  original_name: string;
  url: string;
  thumbnail_url?: string;
  width?: number;
  height?: number;
}

export interface Upload extends Attachment {
  sha256: string;
}

export interface Message {
  id: number;
  conversation_id: number;
  seq: number;
  version: number;
  sender_id: number;
  kind: "text" | "image" | "file" | "system";
  content: string;
  client_msg_id: string | null;
  /** An internal note: agents and admins only (`note:new`). */
  private: boolean;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  attachment: Attachment | null;
  reply_to: { id: number; seq: number; sender_id: number; preview: string | null; deleted: boolean } | null;
  mentions: number[];
  group_mention: "all" | "here" | null;
  reactions: { emoji: string; count: number; me: boolean | null }[];
  pinned: boolean;
}

export interface Conversation {
  id: number;
  title: string | null;
  kind: "direct" | "group" | "channel" | "support";
  description: string | null;
  visibility: "public" | "private";
  member_count: number;
  member_role: "owner" | "admin" | "moderator" | "member" | "follower" | null;
  status: "open" | "closed";
  created_by: number;
  participant_ids: number[];
  created_at: string;
  closed_at: string | null;
  closed_by: number | null;
  last_seq: number;
  version: number;
  last_activity_at: string;
  last_read_seq: number | null;
  unread_count: number | null;
  unread_mentions: number | null;
  last_message: Message | null;
}

export interface JoinAck {
  conversation_id: number;
  last_seq: number;
  version: number;
  truncated: boolean;
  first_seq?: number;
  first_version?: number;
}

export interface Watermarks {
  conversation_id: number;
  user_id: number;
  last_delivered_seq: number;
  last_read_seq: number;
}

export interface Frame {
  type: string;
  ref?: string;
  data?: any;
  /** Set on the message:new the client tells for an acknowledged send of its own. */
  own?: boolean;
}

export interface SendBody {
  content?: string;
  attachment_id?: number;
  reply_to?: number;
  /** Chosen by the client when absent. */
  client_msg_id?: string;
  /** An internal note of the support team (agents and admins, support conversations). */
  private?: boolean;
}

export class ParlorError extends Error {
  constructor(code: string, message: string, extra?: { status?: number; retryAfterMs?: number; cause?: unknown });
  /** The server's error code, or network, disconnected, not_connected, closed, queue_full,
   *  aborted, bad_response. */
  code: string;
  /** The HTTP status; 0 for WebSocket and client-side errors. */
  status: number;
  retryAfterMs?: number;
  static fromResponse(status: number, body: unknown, retryAfter?: string | null): ParlorError;
  static fromFrame(data: unknown): ParlorError;
}

/** Whether the same request may succeed later (network, disconnected, rate_limited, ...). */
export function isTransient(error: unknown): boolean;

export class ParlorRestClient {
  constructor(options?: ParlorClientOptions);
  user: User | null;
  readonly tokens: TokenState | null;
  register(body: { email: string; username: string; password: string; display_name?: string | null; project_id?: number }): Promise<TokenResponse>;
  login(body: { email?: string; username?: string; password: string; project_id?: number }): Promise<TokenResponse>;
  /** A pair, or a token response (its user is kept), e.g. from POST /api/v1/widget/session. */
  useTokens(tokens: Tokens & { user?: User }): void;
  logout(): Promise<void>;
  me(): Promise<User>;
  /** Any REST call under /api/v1 (or from /api/), with the access token unless `auth` is false. */
  api(method: string, path: string, body?: unknown, init?: { query?: Record<string, unknown>; signal?: AbortSignal; auth?: boolean }): Promise<any>;
  conversations(page?: { limit?: number; cursor?: string; status?: "open" | "closed"; kind?: Conversation["kind"] }): Promise<{ items: Conversation[]; next_cursor: string | null }>;
  history(conversationId: number, range?: { before_seq?: number; after_seq?: number; limit?: number }): Promise<Message[]>;
  users(search?: { query?: string; after_id?: number; limit?: number }): Promise<DirectoryUser[]>;
  upload(file: Blob, options?: {
    onProgress?: (sent: number, total: number) => void;
    conversationId?: number;
    name?: string;
    signal?: AbortSignal;
  }): Promise<Upload>;
  on(type: "tokens", handler: (tokens: TokenState | null) => void): () => void;
  on(type: string, handler: (data: any, frame: Frame) => void): () => void;
}

export class ParlorClient extends ParlorRestClient {
  constructor(options?: ParlorClientOptions);
  readonly state: ConnectionState;
  connect(): Promise<void>;
  disconnect(): void;
  join(conversationId: number, options?: { sinceSeq?: number; sinceVersion?: number }): Promise<JoinAck>;
  leave(conversationId: number): Promise<void>;
  send(conversationId: number, body: SendBody): Promise<Message>;
  typing(conversationId: number): void;
  stopTyping(conversationId: number): void;
  markRead(conversationId: number, seq: number): Promise<Watermarks>;
  markDelivered(conversationId: number, seq: number): Promise<Watermarks | null>;
  react(messageId: number, emoji: string, add?: boolean): Promise<{ message: Message }>;
  request(type: string, data: object): Promise<any>;
  on(type: "message", handler: (message: Message, frame: Frame) => void): () => void;
  on(type: "state", handler: (state: ConnectionState, info: { code?: number; reason?: string; error?: ParlorError; delayMs?: number; attempt?: number }) => void): () => void;
  on(type: "tokens", handler: (tokens: TokenState | null) => void): () => void;
  on(type: string, handler: (data: any, frame: Frame) => void): () => void;
}
