// The channels' settings are configuration, read once in src/config/channels.ts; this name
// stays for the command ledger, which still imports it from here.
export { DEFAULT_PAGERDUTY_API_BASE, readChannels, type ChannelSettings, type ChannelsResult } from "../config/channels";
