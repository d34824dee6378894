"""The spec side: everything we add to SpiffWorkflow, through its own mechanisms only (its parser table, its
serializer configuration, its script engine), and nothing else. `parser` reads diagrams safely, with our
clocked timers and extension properties; `timers` are the clocked timer definitions; `scripting` is the
sandbox scripts and expressions run in; `script_engine` is the script engine of one step with the diagram
functions; `serializer` saves and loads a case without its spec."""
