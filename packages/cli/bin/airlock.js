#!/usr/bin/env -S node --initial-old-space-size=64
// A committed entry point, so that npm links the command before the build has made dist/.
// The flag: a port forward's buffers live outside V8's heap, and with the old generation's
// first limit at its default V8 ran a full collection every few MB forwarded (about half of
// the CLI's CPU); at 64 MB it runs none, and the peak RSS stays where it was (bench:sessions).
import "../dist/main.js";
