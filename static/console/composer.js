// The message composer: Enter sends (Shift+Enter for a new line), typing indicators go out while
// the agent types, and a file can be attached (uploaded with a progress bar, then sent).
import { useEffect, useRef, useState } from "preact/hooks";
import { html, Icon, formatBytes, showError } from "./lib.js";
import { client } from "./store.js";

export function Composer({ id, onSent, notes }) {
  const [text, setText] = useState("");
  const [note, setNote] = useState(false);
  const [file, setFile] = useState(null);
  const [previewUrl, setPreviewUrl] = useState(null);
  const [progress, setProgress] = useState(null); // 0..1 while uploading
  const [sending, setSending] = useState(false);
  const fileRef = useRef(null);
  const textRef = useRef(null);

  useEffect(() => {
    if (!file || !file.type.startsWith("image/")) return setPreviewUrl(null);
    const url = URL.createObjectURL(file);
    setPreviewUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  const onInput = (event) => {
    setText(event.currentTarget.value);
    if (event.currentTarget.value.trim()) client.typing(id);
  };

  const onKeyDown = (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  };

  async function send(event) {
    if (event) event.preventDefault();
    const content = text;
    if (sending || (!content.trim() && !file)) return;
    setSending(true);
    try {
      let attachmentId;
      if (file) {
        setProgress(0);
        const upload = await client.upload(file, {
          conversationId: id,
          onProgress: (sent, total) => setProgress(total ? sent / total : 0),
        });
        attachmentId = upload.id;
      }
      const body = attachmentId ? { attachment_id: attachmentId } : {};
      if (content.trim()) body.content = content;
      if (notes && note) body.private = true;
      const message = await client.send(id, body);
      setText("");
      setFile(null);
      if (fileRef.current) fileRef.current.value = "";
      onSent(message);
    } catch (error) {
      showError(error, "Sending");
    } finally {
      setSending(false);
      setProgress(null);
      if (textRef.current) textRef.current.focus();
    }
  }

  return html`<form class="composer" onSubmit=${send} data-testid="composer" aria-label="Write a message">
    ${file
      ? html`<div class="attachment-chip" data-testid="attachment-chip">
          ${previewUrl ? html`<img src=${previewUrl} alt="" class="chip-preview" />` : html`<${Icon} name="clip" />`}
          <span class="chip-name">${file.name}</span> <span class="muted small">${formatBytes(file.size)}</span>
          ${progress !== null
            ? html`<progress max="1" value=${progress} aria-label="Upload progress" data-testid="upload-progress"></progress>
                <span class="small">${Math.round(progress * 100)}%</span>`
            : html`<button type="button" class="btn small" onClick=${() => { setFile(null); fileRef.current.value = ""; }}
                aria-label=${`Remove ${file.name}`}>Remove</button>`}
        </div>`
      : null}
    <div class="composer-row">
      <input type="file" ref=${fileRef} hidden data-testid="file-input"
        onChange=${(e) => setFile(e.currentTarget.files[0] || null)} />
      <button type="button" class="btn icon" onClick=${() => fileRef.current.click()} aria-label="Attach a file"
        title="Attach a file" data-testid="attach-button" disabled=${sending}><${Icon} name="clip" /></button>
      <label class="sr-only" for=${`composer-text-${id}`}>Message</label>
      <textarea id=${`composer-text-${id}`} ref=${textRef} rows="1" value=${text} onInput=${onInput} onKeyDown=${onKeyDown}
        placeholder=${file ? "Add a caption (optional)" : "Write a message"} aria-describedby=${`composer-hint-${id}`}
        maxlength="4000" data-testid="composer-input"></textarea>
      <span id=${`composer-hint-${id}`} class="sr-only">Enter sends; Shift+Enter starts a new line.</span>
      <button class="btn primary" disabled=${sending || (!text.trim() && !file)} data-testid="send-button">
        ${sending ? "Sending…" : note && notes ? "Add note" : "Send"}</button>
    </div>
    ${notes
      ? html`<label class="note-toggle small"><input type="checkbox" checked=${note} data-testid="note-toggle"
          onChange=${(e) => setNote(e.currentTarget.checked)} /> Internal note (only the team sees it)</label>`
      : null}
  </form>`;
}
