// The account email pages: /reset-password (a reset link's page, or asking for a link) and
// /confirm-email (an address change link's page). No inline script (CSP); no other files.
"use strict";

(function () {
  const token = new URLSearchParams(window.location.search).get("token");
  const status = document.getElementById("status");

  function say(text) {
    status.textContent = text;
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      // 204 has no body.
    }
    return { status: response.status, data };
  }

  function failure(result) {
    const code = result.data && result.data.error ? result.data.error.code : "";
    if (code === "invalid_token" || code === "token_expired") {
      return "This link is no longer valid. Ask for a new one.";
    }
    if (code === "rate_limited") {
      return "Too many tries; wait a little and try again.";
    }
    const message = result.data && result.data.error ? result.data.error.message : "";
    return message || "Something went wrong (" + result.status + ").";
  }

  const confirm = document.getElementById("confirm");
  const request = document.getElementById("request");
  const change = document.getElementById("change");

  if (confirm && token) {
    confirm.hidden = false;
    confirm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const first = document.getElementById("new-password").value;
      const second = document.getElementById("repeat-password").value;
      if (first !== second) {
        say("The two passwords differ.");
        return;
      }
      const result = await post("/api/v1/auth/password-reset/confirm", {
        token,
        new_password: first,
      });
      if (result.status === 204 || result.status === 200) {
        confirm.hidden = true;
        say("Your password is set. You were signed out everywhere: sign in with the new one.");
      } else {
        say(failure(result));
      }
    });
  } else if (request) {
    request.hidden = false;
    request.addEventListener("submit", async (event) => {
      event.preventDefault();
      const email = document.getElementById("email").value;
      const result = await post("/api/v1/auth/password-reset", { email });
      if (result.status === 202) {
        say("If an account uses this address, a reset link is on its way.");
      } else {
        say(failure(result));
      }
    });
  }

  if (change) {
    if (!token) {
      say("This page needs the link from the confirmation mail.");
    } else {
      change.hidden = false;
      change.addEventListener("submit", async (event) => {
        event.preventDefault();
        const result = await post("/api/v1/auth/change-email/confirm", { token });
        if (result.status === 200) {
          change.hidden = true;
          say("Your account now uses " + (result.data.email || "the new address") + ".");
        } else {
          say(failure(result));
        }
      });
    }
  }
})();
