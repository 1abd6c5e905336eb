/**
 * The visitor's sends and image uploads until their message is stored: each is shown at once
 * as pending (uploads with their progress), goes to the current support conversation (a new
 * one is opened for the first message), and on failure says why, with Retry when trying
 * again can help. The client retries by itself after disconnects and rate limits, with the
 * same client_msg_id, so nothing is stored twice.
 * @module
 */

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

function newId() {
  return globalThis.crypto?.randomUUID?.() ?? `w-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class Outbox {
  /** @param {any} app the WidgetApp: its client, messages, conversation and generation */
  constructor(app) {
    this.app = app;
    /** @type {Map<string, {body?: any, file?: File, handle: any}>} */
    this.entries = new Map();
  }

  clear() {
    this.entries.clear();
  }

  /** @param {string} text */
  text(text) {
    const id = newId();
    const handle = this.app.messages.addPending(id, { text });
    this.entries.set(id, { body: { content: text, client_msg_id: id }, handle });
    this.deliver(id);
  }

  /** @param {File} file */
  file(file) {
    const id = newId();
    const handle = this.app.messages.addPending(id, { file });
    if (!IMAGE_TYPES.includes(file.type)) return handle.failed("Only images (PNG, JPEG, GIF, WebP) can be sent.", false);
    if (file.size > MAX_UPLOAD_BYTES) return handle.failed("This image is too large (10 MB at most).", false);
    this.entries.set(id, { file, handle });
    this.deliver(id);
  }

  /** Sends entry `id`, after uploading its file; Retry calls it again. @param {string} id */
  async deliver(id) {
    const app = this.app;
    const entry = this.entries.get(id);
    if (!entry) return;
    const generation = app.generation;
    try {
      const conversation = await app.ensureConversation();
      if (!entry.body) {
        const upload = await app.client.upload(entry.file, {
          conversationId: conversation.id,
          onProgress: (sent, total) => entry.handle.progress(total ? sent / total : 0),
        });
        entry.body = { attachment_id: upload.id, client_msg_id: id };
        entry.handle.uploaded();
      }
      const message = await app.client.send(conversation.id, entry.body);
      if (generation !== app.generation) return;
      this.entries.delete(id);
      // Normally its message:new replaced the pending one already.
      if (app.messages.pending.has(id) && message?.conversation_id === app.conversation?.id) app.received(message);
    } catch (error) {
      if (generation !== app.generation) return;
      const reason = {
        conversation_closed: "Not sent: this conversation was closed.",
        payload_too_large: "This image is too large to send.",
        quota_exceeded: "This image is too large to send.",
        unsupported_media_type: "This type of file can't be sent.",
      }[error?.code];
      if (!reason) return entry.handle.failed("Not sent.", true);
      this.entries.delete(id);
      entry.handle.failed(reason, false);
      if (error.code === "conversation_closed") app.closed();
    }
  }
}
