"""AutoStack's GitHub adapter: App authentication, rate limits and the calls the bot makes."""
