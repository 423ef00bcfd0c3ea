"""Social-media monitoring («Инцидент»): posts found in VK, Telegram and OK, triaged, merged into incidents."""
