"""The Textual dashboard and the command line. Talks to ``core.services`` only."""
