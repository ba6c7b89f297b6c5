{
  "targets": [
    {
      "target_name": "terminal_mode",
      "sources": ["native/terminal-mode.c"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
