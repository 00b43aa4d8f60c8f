"""The browser: launching Chromium, keeping it for months, fencing it to the profile's hosts."""
