"""Topic-segmentation corpus for the Parole benchmark.

Original sentences written for this benchmark, set in the programme's world: agents of the French territorial civil
service ("La parole est à vous") talking about their jobs, one list of sentences per subject. Documents are assembled
from consecutive runs of these sentences, with known topic boundaries, and are used by ``bench/topics.py`` to measure
topic segmentation (Pk, WindowDiff).

Run ``python bench/topic_corpus.py`` to print the corpus (document names, sentence counts and boundaries).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SUBJECTS: dict[str, list[str]] = {
    "recrutement": [
        "Alors, chez nous, un recrutement commence toujours par une fiche de poste bien précise, "
        "rédigée avec le chef de service concerné.",
        "En fait, on reçoit parfois moins de cinq candidatures pour un poste de technicien, "
        "alors qu'il y a dix ans on en avait trente.",
        "Le jury d'entretien réunit en général l'élu référent, le directeur général des services "
        "et quelqu'un des ressources humaines.",
        "Vous savez, l'attractivité de nos métiers, c'est devenu le premier sujet dont on parle "
        "entre responsables RH de collectivités voisines.",
        "Cette année, nous avons accueilli six apprentis, en espaces verts, en mécanique et à l'accueil, "
        "et deux vont rester chez nous.",
        "Les lauréats de concours restent parfois des mois sur liste d'aptitude avant de trouver "
        "une collectivité qui veuille bien les nommer.",
        "On a testé le job dating avec des candidats qui venaient sans CV, et franchement, "
        "certains échanges de dix minutes ont été décisifs.",
        "Pour un contractuel, on regarde surtout l'expérience et la motivation, puis on l'encourage "
        "s'il souhaite ensuite passer le concours.",
        "Alors, nos offres d'emploi, on les publie sur Place de l'emploi public, mais aussi sur les réseaux "
        "sociaux, ce qui était impensable avant.",
        "Ce qui attire les candidats aujourd'hui, c'est moins la sécurité de l'emploi que le sens du travail "
        "et la possibilité de télétravailler.",
        "L'intégration d'un nouvel arrivant, on y tient beaucoup : une journée d'accueil, un tuteur, "
        "et un point d'étape au bout de trois mois.",
        "Quand un poste d'auxiliaire de puériculture reste vacant six mois, c'est toute l'équipe qui compense, "
        "et là, l'urgence d'embaucher se fait sentir.",
    ],
    "budget": [
        "Alors, le budget primitif, on commence à le préparer dès septembre, avec des réunions d'arbitrage "
        "entre chaque direction et l'adjoint aux finances.",
        "Le débat d'orientation budgétaire, c'est le moment où l'on explique aux élus les grandes masses "
        "de dépenses et de recettes.",
        "En fait, la baisse des dotations de l'État nous a obligés à revoir toute notre section "
        "de fonctionnement, ligne par ligne.",
        "Pour le plan pluriannuel d'investissement, on a priorisé la réfection du gymnase et celle "
        "de la voirie, étalées sur cinq ans.",
        "Vous savez, notre capacité de désendettement est passée sous les six ans, ce qui nous permet "
        "d'emprunter à nouveau dans de bonnes conditions.",
        "Chaque association dépose un dossier de demande de subvention, et la commission des finances "
        "les examine avant le vote en conseil.",
        "Le compte administratif, c'est un peu le bulletin de notes de l'année : on voit ce qui a réellement "
        "été encaissé et dépensé.",
        "On cherche toujours des cofinancements auprès du département, de la région ou de l'Europe, parce qu'un "
        "projet financé à quatre-vingts pour cent, ça change tout.",
        "L'inflation a fait grimper nos charges à caractère général, et on a dû voter une décision modificative "
        "en cours d'année.",
        "Augmenter le taux de la taxe foncière, c'est toujours une décision politique difficile, et les élus "
        "hésitent énormément avant de s'y résoudre.",
        "Alors, l'épargne brute, c'est l'indicateur que je surveille le plus, car c'est elle qui autofinance "
        "une partie de nos équipements.",
        "Le comptable public vérifie chaque mandat de paiement, et une facture mal imputée peut bloquer "
        "le règlement d'un fournisseur pendant des semaines.",
    ],
    "participation": [
        "Alors, nos conseils de quartier se réunissent quatre fois par an, et les habitants y posent "
        "des questions très concrètes sur leur rue.",
        "Le budget participatif, ça a été une vraie surprise : plus de deux cents projets déposés par "
        "des habitants dès la première édition.",
        "En fait, le plus dur, c'est de faire venir aux réunions publiques ceux qu'on n'entend jamais, "
        "les jeunes ou les personnes qui travaillent en horaires décalés.",
        "On a organisé une concertation sur l'avenir de la place du marché, avec des ateliers, "
        "une balade commentée et un grand registre d'idées.",
        "Vous savez, les habitants votent ensuite pour leurs propositions préférées, et cette année, "
        "un terrain de pétanque et des bancs le long du canal l'ont emporté.",
        "Le conseil municipal des jeunes a rédigé lui-même un questionnaire pour consulter "
        "les autres adolescents de la ville sur leurs attentes.",
        "Un questionnaire dans le journal municipal, c'est bien, mais on double toujours avec des permanences "
        "sur le marché pour aller chercher les gens.",
        "Ce qui compte, c'est de rendre compte : on revient devant le conseil citoyen pour expliquer ce qu'on "
        "a retenu et pourquoi on a écarté le reste.",
        "Alors, j'anime aussi un panel de citoyens tirés au sort, qui a travaillé six samedis de suite "
        "sur l'avenir du centre-ville.",
        "Certains élus craignaient que la démocratie participative leur retire du pouvoir, et finalement ils "
        "sont souvent les premiers aux assemblées de quartier.",
        "Les habitants nous disent qu'ils veulent être associés avant que les décisions soient prises, "
        "pas simplement informés une fois que tout est bouclé.",
        "On a formé des bénévoles référents dans chaque quartier, et ce sont eux qui font remonter les idées "
        "et les doléances de leurs voisins.",
    ],
    "numerique": [
        "Alors, depuis deux ans, presque toutes nos démarches se font en ligne, de la prise de rendez-vous "
        "pour un passeport jusqu'aux demandes d'actes.",
        "Notre site internet a été entièrement refait pour qu'on trouve une information en trois clics, "
        "et qu'il soit lisible sur un téléphone.",
        "En fait, la dématérialisation laisse des gens sur le bord du chemin, alors on a installé deux "
        "conseillers numériques dans nos maisons France services.",
        "Vous savez, beaucoup d'usagers n'ont pas d'adresse mail, et créer un compte sur un portail, "
        "pour eux, c'est déjà un obstacle énorme.",
        "On publie nos jeux de données en open data, les horaires des équipements, la liste des marchés, "
        "et des développeurs locaux en font des applications.",
        "La cybersécurité est devenue une obsession depuis qu'une commune voisine a subi un rançongiciel "
        "qui a bloqué ses serveurs pendant trois semaines.",
        "Le portail citoyen permet de suivre l'avancement d'une demande en ligne, mais derrière, il faut "
        "que nos logiciels métiers communiquent entre eux.",
        "Alors, on a migré toute la messagerie des agents vers une solution hébergée en France, "
        "et ça a demandé des mois de préparation.",
        "Le règlement général sur la protection des données nous impose de savoir quelles informations "
        "personnelles on stocke, et pendant combien de temps.",
        "Les ateliers d'inclusion numérique du mardi apprennent aux gens à scanner un document, "
        "à envoyer une pièce jointe et à se méfier des arnaques.",
        "On a mis un chatbot sur le site, mais honnêtement, les usagers préfèrent encore un vrai numéro "
        "de téléphone avec quelqu'un au bout.",
        "La fibre est arrivée dans les derniers hameaux l'an dernier, et pour les entreprises comme pour "
        "les démarches en ligne, ça a tout changé.",
    ],
    "formation": [
        "Alors, chaque agent a droit à des jours de formation, et nous construisons un plan de formation "
        "annuel à partir des entretiens professionnels.",
        "Le CNFPT reste notre partenaire principal, avec des stages en intra directement dans nos locaux "
        "quand tout un groupe doit être formé.",
        "En fait, la formation d'intégration est obligatoire après la titularisation, et elle permet "
        "de rencontrer des collègues d'autres collectivités.",
        "Moi, j'ai fait une reconversion complète : j'étais agent d'entretien, et après deux ans de cours "
        "du soir, je suis aujourd'hui rédacteur territorial.",
        "Vous savez, le compte personnel de formation permet de se lancer dans un projet personnel, "
        "un diplôme, ou même un bilan de compétences.",
        "Les formations réglementaires, comme les habilitations électriques ou la conduite d'engins, "
        "prennent une grande place dans notre plan.",
        "On a développé l'apprentissage entre pairs : un agent expérimenté transmet ses savoir-faire "
        "à un collègue, sur le terrain, pendant quelques semaines.",
        "Les managers de proximité ont suivi un cycle de six journées sur la conduite d'entretiens annuels "
        "et la gestion des conflits d'équipe.",
        "Alors, la validation des acquis de l'expérience, c'est long, mais j'ai vu des agents obtenir "
        "un diplôme qu'ils n'avaient jamais pu passer jeunes.",
        "Avec les modules à distance, on touche enfin les agents des petites communes, qui ne pouvaient "
        "pas s'absenter une journée entière pour un stage.",
        "Quand un agent est en usure professionnelle, on peut l'accompagner vers un autre métier grâce à "
        "une période de préparation au reclassement.",
        "Ce qui me frappe, c'est que les stagiaires demandent de plus en plus des sessions courtes, "
        "très pratiques, qu'ils réinvestissent dès le lendemain.",
    ],
    "environnement": [
        "Alors, on a posé des sondes de température dans nos bâtiments, et rien qu'en réglant mieux "
        "le chauffage, on a économisé quinze pour cent d'énergie.",
        "Les pistes cyclables, on les a d'abord tracées à la peinture, à titre d'essai, puis on les a "
        "pérennisées quand les cyclistes sont arrivés.",
        "En fait, le tri des biodéchets a demandé beaucoup de pédagogie, avec des composteurs collectifs "
        "au pied des immeubles et des guides composteurs bénévoles.",
        "Vous savez, nos jardiniers n'utilisent plus aucun pesticide depuis des années, et on a appris "
        "à accepter un peu d'herbe entre les pavés.",
        "On a remplacé l'éclairage public par des lampes LED, et on éteint la nuit entre une heure "
        "et cinq heures dans les quartiers résidentiels.",
        "La rénovation thermique de la mairie, avec l'isolation par l'extérieur et une pompe à chaleur, "
        "a divisé la consommation de chauffage par deux.",
        "Alors, les espaces verts, on les gère maintenant en fauche tardive, ce qui laisse les insectes "
        "pollinisateurs revenir dans les prairies.",
        "Dans les déchetteries, on a ouvert une recyclerie où les objets encore utilisables trouvent "
        "une seconde vie au lieu de finir en benne.",
        "On plante chaque hiver plusieurs centaines d'arbres pour créer des îlots de fraîcheur, parce que "
        "les étés deviennent vraiment étouffants.",
        "Les consignes de tri ont été simplifiées : tous les emballages vont désormais dans le bac jaune, "
        "et les erreurs ont nettement diminué.",
        "On a installé des panneaux photovoltaïques sur le toit des ateliers municipaux, et une partie "
        "de l'électricité est consommée directement sur place.",
        "Le service vélo propose des locations longue durée de vélos électriques, et beaucoup d'habitants "
        "ont fini par abandonner leur deuxième voiture.",
    ],
    "social": [
        "Alors, au CCAS, on reçoit chaque jour des personnes qui viennent pour une aide d'urgence, souvent "
        "parce qu'une facture imprévue les a fait basculer.",
        "Le portage de repas à domicile concerne plus de cent personnes âgées, et pour certaines, "
        "le livreur est la seule visite de la journée.",
        "En fait, l'épicerie solidaire permet aux familles de faire leurs courses pour dix pour cent du prix, "
        "en choisissant elles-mêmes leurs produits.",
        "Vous savez, l'isolement des aînés, on l'a vraiment mesuré pendant le confinement, quand on appelait "
        "chaque semaine les personnes inscrites sur le registre.",
        "L'analyse des besoins sociaux nous a montré que les familles monoparentales étaient beaucoup "
        "plus nombreuses qu'on ne le pensait.",
        "Pour l'aide au logement, on accompagne les ménages dans leur demande de logement social "
        "et on négocie avec les bailleurs en cas d'impayés.",
        "Au département, les travailleurs sociaux instruisent les dossiers de RSA et construisent avec "
        "chaque allocataire un parcours d'insertion réaliste.",
        "Alors, la résidence autonomie accueille une soixantaine de retraités, qui gardent leur appartement "
        "tout en profitant d'animations et d'une présence la nuit.",
        "Avec la banque alimentaire, nos bénévoles distribuent des colis chaque jeudi, et la demande "
        "a presque doublé en deux ans.",
        "On a mis en place une domiciliation administrative pour les personnes sans abri, pour qu'elles "
        "puissent au moins recevoir leur courrier.",
        "Le plan canicule, c'est nous qui le déclenchons : on téléphone aux personnes fragiles et on organise "
        "des visites si quelqu'un ne répond pas.",
        "Ce qui est difficile dans l'action sociale, c'est de respecter la dignité des gens qui n'osent pas "
        "pousser la porte d'un guichet d'aide.",
    ],
    "education": [
        "Alors, la commune gère les bâtiments scolaires, et chaque été on profite des vacances pour repeindre "
        "des classes et changer le mobilier.",
        "À la cantine, on sert plus de mille deux cents repas par jour, avec un menu végétarien par semaine "
        "et des produits bio.",
        "En fait, les ATSEM sont indispensables en maternelle : elles aident les enfants à s'habiller, "
        "préparent les ateliers et rassurent les plus petits.",
        "Vous savez, le temps périscolaire du soir, c'est souvent la première expérience d'animation "
        "pour nos jeunes animateurs titulaires du BAFA.",
        "Les inscriptions scolaires se font à la mairie, et on ajuste la sectorisation quand les effectifs "
        "d'un groupe scolaire augmentent trop.",
        "Le mercredi, l'accueil de loisirs propose des sorties, des ateliers scientifiques et des jeux "
        "sportifs pour les enfants de trois à onze ans.",
        "Alors, on travaille avec les directeurs d'école et l'inspection sur les rythmes scolaires, "
        "et ce n'est jamais simple de contenter tout le monde.",
        "La pause méridienne, c'est deux heures où les agents doivent à la fois servir le repas, surveiller "
        "la cour et apaiser les conflits entre élèves.",
        "Les enseignants nous demandent surtout des cars pour les sorties scolaires et des classes "
        "de découverte pour leurs élèves.",
        "On a ouvert un self dans le restaurant scolaire des élémentaires, et les enfants gaspillent "
        "beaucoup moins parce qu'ils se servent eux-mêmes.",
        "L'accompagnement à la scolarité, le soir, aide les collégiens à faire leurs devoirs avec "
        "des étudiants bénévoles, dans une salle de l'école.",
        "Au lycée, c'est la région qui emploie les agents d'entretien et de restauration, et ils connaissent "
        "souvent chaque élève par son prénom.",
    ],
    "culture": [
        "Alors, la médiathèque est devenue bien plus qu'un lieu de prêt de livres : on y vient pour travailler, "
        "jouer, écouter de la musique ou voir une exposition.",
        "Notre festival d'été attire chaque année plusieurs milliers de spectateurs, et la programmation "
        "mélange têtes d'affiche et groupes locaux.",
        "En fait, le conservatoire accueille quatre cents élèves, du piano à la batterie, et on a ouvert "
        "une classe de musiques actuelles.",
        "Vous savez, restaurer l'église romane du village, c'était un chantier patrimonial énorme, "
        "suivi de près par l'architecte des bâtiments de France.",
        "Les bibliothécaires font des lectures à voix haute dans les crèches, pour donner très tôt "
        "le goût des livres et des histoires.",
        "On a créé une résidence d'artiste : une compagnie de théâtre vient répéter chez nous pendant "
        "un mois et joue ensuite sa création ici.",
        "Alors, les Journées européennes du patrimoine, c'est le week-end où l'on ouvre les archives "
        "municipales, le clocher et les anciennes halles.",
        "La saison culturelle de la salle des fêtes propose du théâtre, du cirque et des concerts, "
        "avec des tarifs très bas pour que tout le monde vienne.",
        "Le petit musée d'histoire locale conserve des outils agricoles, des costumes anciens "
        "et des photographies de la vie du bourg.",
        "La médiation culturelle, c'est notre priorité : chaque habitant doit pouvoir rencontrer un artiste, "
        "une œuvre, un spectacle vivant.",
        "Les ateliers d'écriture du samedi matin réunissent des retraités, des lycéens et des auteurs "
        "amateurs autour d'une même table.",
        "On a prolongé les horaires d'ouverture le dimanche, et la fréquentation de la bibliothèque a bondi, "
        "surtout chez les familles.",
    ],
    "securite": [
        "Alors, nos policiers municipaux patrouillent à pied dans le centre-ville, parce que le contact "
        "avec les commerçants et les habitants, c'est essentiel.",
        "La vidéoprotection, on l'a déployée progressivement, avec un centre de supervision urbain où "
        "des opérateurs regardent les images en direct.",
        "En fait, la convention de coordination avec la gendarmerie précise qui fait quoi, notamment la nuit "
        "et pendant les grands rassemblements.",
        "Vous savez, la sécurité routière, c'est d'abord des contrôles de vitesse, des radars pédagogiques "
        "et des ralentisseurs pour calmer les automobilistes.",
        "Les ASVP verbalisent le stationnement gênant, et c'est souvent ce qui génère le plus de réclamations "
        "au standard de la police municipale.",
        "Alors, le conseil local de sécurité et de prévention de la délinquance réunit le maire, le procureur, "
        "les bailleurs et les associations.",
        "La prévention auprès des jeunes passe par des éducateurs de rue qui vont au contact des groupes "
        "au pied des immeubles, le soir.",
        "Pour l'opération tranquillité vacances, les agents passent régulièrement devant les maisons "
        "des habitants partis en congé.",
        "Le débat sur l'équipement de nos agents a duré des mois, entre caméras-piétons, gilets pare-balles "
        "et formation aux gestes d'interpellation.",
        "Les rodéos urbains en moto sont devenus un vrai fléau l'été, et on travaille avec la police nationale "
        "pour saisir les engins.",
        "Alors, pendant le marché de Noël, on installe des blocs de béton anti-intrusion et on renforce "
        "les contrôles aux entrées.",
        "Un policier municipal doit connaître parfaitement ses pouvoirs judiciaires, car la moindre erreur "
        "de procédure peut faire annuler une contravention.",
    ],
    "urbanisme": [
        "Alors, le service instruit chaque année plusieurs centaines de permis de construire, de déclarations "
        "préalables et de certificats d'urbanisme.",
        "Le plan local d'urbanisme intercommunal a demandé quatre ans de travail, avec un zonage parcelle "
        "par parcelle sur vingt-deux communes.",
        "En fait, l'objectif zéro artificialisation nette nous oblige à densifier les bourgs plutôt qu'à ouvrir "
        "de nouveaux lotissements en extension.",
        "Vous savez, un pétitionnaire qui veut agrandir sa maison ne comprend pas toujours pourquoi on lui "
        "impose une hauteur maximale ou une couleur de tuiles.",
        "On accompagne un grand projet de renouvellement urbain, avec la démolition de deux barres "
        "et la construction de logements mieux répartis.",
        "Les recours contre les permis sont de plus en plus fréquents, et certains programmes immobiliers "
        "restent bloqués pendant des années.",
        "Alors, l'architecte conseil reçoit gratuitement les habitants avant qu'ils déposent leur dossier, "
        "ce qui évite beaucoup de refus.",
        "La commune a exercé son droit de préemption pour racheter une friche industrielle et y faire émerger "
        "un petit quartier mixte.",
        "Les opérations d'aménagement se négocient avec les promoteurs, qui doivent intégrer un quart "
        "de logements sociaux dans chaque programme.",
        "Quand on contrôle la conformité des travaux, on découvre parfois une véranda ou une piscine "
        "qui n'a jamais été déclarée.",
        "Le schéma de cohérence territoriale fixe les grandes orientations, et notre PLU doit s'y conformer "
        "pour les zones d'activités et l'habitat.",
        "Alors, revitaliser le centre-bourg, c'est lutter contre les logements vacants au-dessus des commerces "
        "et réhabiliter des maisons abandonnées.",
    ],
    "sante": [
        "Alors, notre centre de santé municipal emploie six médecins salariés, ce qui a permis à des centaines "
        "d'habitants de retrouver un médecin traitant.",
        "Le désert médical, on le vit concrètement : le dernier généraliste est parti à la retraite "
        "sans successeur, et les patients faisaient quarante kilomètres.",
        "En fait, la maison de santé pluriprofessionnelle réunit des infirmières, des kinésithérapeutes, "
        "une orthophoniste et deux médecins sous le même toit.",
        "Vous savez, pendant la campagne de vaccination, on a transformé le gymnase en centre de vaccination "
        "en quelques jours seulement.",
        "Le contrat local de santé, signé avec l'agence régionale de santé, fixe nos priorités : prévention, "
        "santé mentale et accès aux soins.",
        "Les puéricultrices de la PMI suivent les nourrissons et les jeunes mères, avec des pesées, "
        "des conseils d'allaitement et des visites à domicile.",
        "Alors, on accueille des internes en médecine dans des logements meublés, en espérant que certains "
        "aient envie de s'installer ensuite.",
        "Le service communal d'hygiène et de santé contrôle la qualité de l'eau des piscines et lutte "
        "contre la prolifération du moustique tigre.",
        "On organise des dépistages gratuits du diabète et des cancers, souvent sur la place, parce que "
        "c'est là qu'on touche les gens.",
        "La santé mentale des jeunes nous inquiète beaucoup, et on a ouvert un point écoute avec "
        "une psychologue, sans rendez-vous.",
        "Alors, la téléconsultation dépanne dans les villages, avec une cabine installée à la pharmacie, "
        "mais elle ne remplace pas un vrai médecin.",
        "Le bus santé sillonne les hameaux chaque mois pour proposer des consultations de prévention "
        "et des rappels de vaccins aux habitants isolés.",
    ],
}

TRANSITIONS: list[str] = [
    "Passons maintenant à un tout autre sujet.",
    "Changeons de thème, si vous le voulez bien.",
    "J'aimerais qu'on aborde une autre question.",
    "Je vous propose de changer complètement de registre.",
    "Bien, on va passer à autre chose, si vous êtes d'accord.",
    "Merci pour ces explications, j'aimerais maintenant vous entendre sur un autre point.",
    "Laissons cela de côté un instant et parlons d'autre chose.",
    "Autre sujet maintenant, qui intéresse aussi beaucoup nos auditeurs.",
    "On change de cap, si vous me le permettez.",
    "Il y a un autre aspect de votre travail dont je voulais vous parler.",
    "Tournons la page, et venons-en à un autre volet de votre quotidien.",
    "Allez, nouvelle question, sur un tout autre terrain.",
    "Je voudrais qu'on s'arrête maintenant sur un autre dossier.",
    "Élargissons un peu la discussion, si vous le voulez bien.",
]

TOPIC_LEADS: dict[str, str] = {
    "recrutement": "Parlons du recrutement : est-ce que vous arrivez encore à trouver des candidats ?",
    "budget": "Parlons maintenant du budget de votre collectivité : comment se prépare-t-il ?",
    "participation": "Et la participation des habitants, comment la faites-vous vivre au quotidien ?",
    "numerique": "Venons-en au numérique : qu'est-ce que la dématérialisation a changé pour vos usagers ?",
    "formation": "Parlons de la formation des agents : comment se passe-t-elle chez vous ?",
    "environnement": "Sur l'environnement et la transition écologique, qu'avez-vous engagé concrètement ?",
    "social": "Parlons de l'action sociale : qui vient frapper à la porte du CCAS aujourd'hui ?",
    "education": "Et l'éducation, les écoles, la cantine, le périscolaire : quel est votre rôle exactement ?",
    "culture": "Parlons de culture : quelle place ont la médiathèque et les spectacles dans votre commune ?",
    "securite": "Venons-en à la sécurité : comment travaille votre police municipale ?",
    "urbanisme": "Parlons d'urbanisme : comment instruisez-vous les permis de construire ?",
    "sante": "Et la santé, l'accès aux médecins : comment la collectivité s'en mêle-t-elle ?",
}

STYLES: tuple[str, ...] = ("sans transition", "transition neutre", "question d'ouverture")

N_DOCUMENTS = 18
MIN_SEGMENT = 5
MAX_SEGMENT = 12


@dataclass(frozen=True)
class Document:
    name: str
    sentences: list[str]
    boundaries: list[int]  # indices i where a new topic starts at sentence i (never 0)
    subjects: list[str]


def _segment_lengths(rng: random.Random, count: int) -> list[int]:
    """Draw segment lengths that vary within a document (max - min >= 3), so equal splits are not trivially right."""
    while True:
        lengths = [rng.randint(MIN_SEGMENT, MAX_SEGMENT) for _ in range(count)]
        if max(lengths) - min(lengths) >= 3:
            return lengths


def build_documents(seed: int = 7) -> list[Document]:
    """Build the benchmark documents deterministically from ``seed``."""
    rng = random.Random(seed)
    subject_names = sorted(SUBJECTS)
    documents: list[Document] = []
    for index in range(N_DOCUMENTS):
        style = STYLES[index % len(STYLES)]
        count = rng.randint(3, 5)
        chosen = rng.sample(subject_names, count)
        lengths = _segment_lengths(rng, count)
        sentences: list[str] = []
        boundaries: list[int] = []
        for position, (subject, length) in enumerate(zip(chosen, lengths, strict=True)):
            pool = SUBJECTS[subject]
            start = rng.randint(0, len(pool) - length)
            if position > 0:
                boundaries.append(len(sentences))
            if style == "transition neutre" and position > 0:
                sentences.append(rng.choice(TRANSITIONS))
            elif style == "question d'ouverture":
                sentences.append(TOPIC_LEADS[subject])
            sentences.extend(pool[start : start + length])
        name = f"doc-{index + 1:02d} ({style}, {count} sujets)"
        documents.append(Document(name=name, sentences=sentences, boundaries=boundaries, subjects=chosen))
    return documents


if __name__ == "__main__":
    for doc in build_documents():
        print(f"{doc.name}: {len(doc.sentences)} phrases, frontières {doc.boundaries} — {', '.join(doc.subjects)}")
