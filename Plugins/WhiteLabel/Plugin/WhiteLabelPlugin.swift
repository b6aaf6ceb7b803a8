import PlexusSDK
