"""The hand-off's run-time side in the gateway: the router hook, live events, Rasa
pause/resume and the staff alert."""
