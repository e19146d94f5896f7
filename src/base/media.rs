//! The media type a script serves (one per script), with its Studio spellings and ids.

/// Script media types (one per script).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MediaType {
    /// No channel: data and control scripts.
    #[default]
    Generic,
    /// Voice.
    Phone,
    /// Email.
    Email,
    /// Chat.
    Chat,
    /// Voicemail.
    Voicemail,
    /// Work item.
    WorkItem,
    /// SMS.
    Sms,
    /// Digital channels.
    Digital,
}

impl MediaType {
    /// Every media type, in catalog order.
    pub const ALL: [MediaType; 8] = [
        MediaType::Generic,
        MediaType::Phone,
        MediaType::Email,
        MediaType::Chat,
        MediaType::Voicemail,
        MediaType::WorkItem,
        MediaType::Sms,
        MediaType::Digital,
    ];

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Generic => "Generic",
            MediaType::Phone => "Phone",
            MediaType::Email => "Email",
            MediaType::Chat => "Chat",
            MediaType::Voicemail => "Voicemail",
            MediaType::WorkItem => "WorkItem",
            MediaType::Sms => "SMS",
            MediaType::Digital => "Digital",
        }
    }

    /// Parse a media type name (case-insensitive; `call`/`voice` mean Phone,
    /// `Work Item` and `WorkItem` are the same).
    pub fn parse(s: &str) -> Option<MediaType> {
        let t: String = s.chars().filter(|c| !c.is_whitespace() && *c != '_').collect::<String>().to_ascii_lowercase();
        Some(match t.as_str() {
            "generic" => MediaType::Generic,
            "phone" | "call" | "voice" => MediaType::Phone,
            "email" => MediaType::Email,
            "chat" => MediaType::Chat,
            "voicemail" => MediaType::Voicemail,
            "workitem" => MediaType::WorkItem,
            "sms" => MediaType::Sms,
            "digital" => MediaType::Digital,
            _ => return None,
        })
    }

    /// Web Studio's numeric media type id (Generic has none published; 0 is
    /// used for it).
    pub fn studio_id(self) -> i64 {
        match self {
            MediaType::Generic => 0,
            MediaType::Email => 1,
            MediaType::Chat => 3,
            MediaType::Phone => 4,
            MediaType::Voicemail => 5,
            MediaType::WorkItem => 6,
            MediaType::Sms => 7,
            MediaType::Digital => 9,
        }
    }

    /// Inverse of [`MediaType::studio_id`].
    pub fn from_studio_id(id: i64) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|m| m.studio_id() == id)
    }

    /// Web Studio's `mediaTypeName` spelling.
    pub fn studio_name(self) -> &'static str {
        match self {
            MediaType::Phone => "call",
            MediaType::Generic => "generic",
            MediaType::Email => "email",
            MediaType::Chat => "chat",
            MediaType::Voicemail => "voicemail",
            MediaType::WorkItem => "workitem",
            MediaType::Sms => "sms",
            MediaType::Digital => "digital",
        }
    }
}
