"""Telegram control: a paired chat drives its user's account (``blockbotx telegram serve``).

``commands`` turns a command into a reply through the service layer, as the chat's user;
``bot`` is the python-telegram-bot application around it (Bot API base URL configurable).
"""
