"""The consent uses every new organisation starts with, in plain words, in nl, fr and en."""

from __future__ import annotations

from typing import TypedDict

from consentlens.consent.uses import Use


class UseText(TypedDict):
    code: Use
    applies_to_photos: bool
    unconsented_action: str
    label_nl: str
    label_fr: str
    label_en: str
    explanation_nl: str
    explanation_fr: str
    explanation_en: str
    example_nl: str
    example_fr: str
    example_en: str


DEFAULT_USES: tuple[UseText, ...] = (
    {
        "code": Use.INTERNAL_GALLERY,
        "applies_to_photos": True,
        "unconsented_action": "blur",
        "label_nl": "Besloten fotogalerij",
        "label_fr": "Galerie photo privée",
        "label_en": "Private photo gallery",
        "explanation_nl": "Foto's zijn alleen te zien voor ouders en begeleiders van de club, "
        "na inloggen. Ze worden niet openbaar gemaakt.",
        "explanation_fr": "Les photos ne sont visibles que par les parents et l'encadrement du "
        "club, après connexion. Elles ne sont pas rendues publiques.",
        "explanation_en": "Photos can only be seen by the club's parents and staff after "
        "signing in. They are not made public.",
        "example_nl": "Een foto van de training in het fotoalbum van de club, alleen "
        "zichtbaar voor "
        "ingelogde ouders.",
        "example_fr": "Une photo de l'entraînement dans l'album du club, visible seulement par les "
        "parents connectés.",
        "example_en": "A photo of training in the club's album, visible only to signed-in parents.",
    },
    {
        "code": Use.WEBSITE,
        "applies_to_photos": True,
        "unconsented_action": "blur",
        "label_nl": "Website van de club",
        "label_fr": "Site web du club",
        "label_en": "Club website",
        "explanation_nl": "Foto's op de openbare website van de club. Iedereen op internet "
        "kan ze zien.",
        "explanation_fr": "Photos sur le site web public du club. Tout le monde sur internet "
        "peut les voir.",
        "explanation_en": "Photos on the club's public website. Anyone on the internet can "
        "see them.",
        "example_nl": "Een ploegfoto na de wedstrijd op de website van de club.",
        "example_fr": "Une photo d'équipe après le match sur le site web du club.",
        "example_en": "A team photo after the match on the club's website.",
    },
    {
        "code": Use.PRINT,
        "applies_to_photos": True,
        "unconsented_action": "blur",
        "label_nl": "Nieuwsbrief en drukwerk",
        "label_fr": "Bulletin et imprimés",
        "label_en": "Newsletter and print",
        "explanation_nl": "Foto's in de nieuwsbrief, op affiches en in folders van de club.",
        "explanation_fr": "Photos dans le bulletin, sur les affiches et dans les dépliants "
        "du club.",
        "explanation_en": "Photos in the club's newsletter, on posters and in leaflets.",
        "example_nl": "Een foto van het kamp in de nieuwsbrief die naar alle leden gaat.",
        "example_fr": "Une photo du stage dans le bulletin envoyé à tous les membres.",
        "example_en": "A photo of the summer camp in the newsletter sent to all members.",
    },
    {
        "code": Use.SOCIAL_MEDIA,
        "applies_to_photos": True,
        "unconsented_action": "hide",
        "label_nl": "Sociale media",
        "label_fr": "Réseaux sociaux",
        "label_en": "Social media",
        "explanation_nl": "Foto's op de Facebook-, Instagram- of andere pagina's van de club. "
        "Wat daar staat, kan door anderen gedeeld en gekopieerd worden.",
        "explanation_fr": "Photos sur les pages Facebook, Instagram ou autres du club. Ce qui "
        "y est publié peut être partagé et copié par d'autres.",
        "explanation_en": "Photos on the club's Facebook, Instagram or other pages. What is "
        "posted there can be shared and copied by others.",
        "example_nl": "Een foto van het toernooi op de Instagram-pagina van de club.",
        "example_fr": "Une photo du tournoi sur la page Instagram du club.",
        "example_en": "A photo of the tournament on the club's Instagram page.",
    },
    {
        "code": Use.PRESS,
        "applies_to_photos": True,
        "unconsented_action": "hide",
        "label_nl": "Pers",
        "label_fr": "Presse",
        "label_en": "Press",
        "explanation_nl": "Foto's die de club aan kranten of lokale media geeft, bijvoorbeeld "
        "bij een toernooi.",
        "explanation_fr": "Photos que le club transmet aux journaux ou aux médias locaux, par "
        "exemple lors d'un tournoi.",
        "explanation_en": "Photos the club gives to newspapers or local media, for example "
        "after a tournament.",
        "example_nl": "Een foto van de kampioenenviering in de lokale krant.",
        "example_fr": "Une photo de la fête du titre dans le journal local.",
        "example_en": "A photo of the championship celebration in the local newspaper.",
    },
    {
        "code": Use.FACE_RECOGNITION,
        "applies_to_photos": False,
        "unconsented_action": "blur",
        "label_nl": "Gezichtsherkenning",
        "label_fr": "Reconnaissance faciale",
        "label_en": "Face recognition",
        "explanation_nl": "De club mag het gezicht van uw kind automatisch herkennen op "
        "foto's, zodat het alleen getoond wordt waar u toestemming gaf. Zonder deze "
        "toestemming wordt uw kind op elke foto vervaagd.",
        "explanation_fr": "Le club peut reconnaître automatiquement le visage de votre enfant "
        "sur les photos, pour ne le montrer que là où vous l'avez permis. Sans cette "
        "autorisation, votre enfant est flouté sur chaque photo.",
        "explanation_en": "The club may recognise your child's face on photos automatically, "
        "so that your child is only shown where you allowed it. Without this consent, your "
        "child is blurred on every photo.",
        "example_nl": "De club herkent uw kind op de foto's van het toernooi en vervaagt het "
        "waar u nee "
        "zei.",
        "example_fr": "Le club reconnaît votre enfant sur les photos du tournoi et le floute "
        "là où vous"
        " avez dit non.",
        "example_en": "The club recognises your child on the tournament photos and blurs them"
        " wherever "
        "you said no.",
    },
)
