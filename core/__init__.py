"""BlockbotX core: the headless service layer. Never imports textual or rich."""
