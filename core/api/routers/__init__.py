"""One router per resource; each route is one service call made as the key's owner."""
