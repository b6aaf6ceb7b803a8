print("eventlog-bench: not built yet")
