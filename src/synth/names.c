/* names.c: the name and street lists. Depends on names.h. */
#include "synth/names.h"

const char *const cr_synth_female_names[] = {
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Sophia", "Grace", "Lily",
    "Freya", "Emily", "Ella", "Florence", "Isabella", "Charlotte", "Poppy",
    "Evie", "Maya", "Aisha", "Fatima", "Maryam", "Zainab", "Hafsa", "Amira",
    "Sara", "Layla", "Nadia", "Priya", "Anjali", "Kavya", "Sunita", "Meera",
    "Ananya", "Chloe", "Jessica", "Sarah", "Rachel", "Hannah", "Rebecca",
    "Laura", "Emma", "Lucy", "Sophie", "Katie", "Hollie", "Megan", "Abigail",
    "Chiamaka", "Adaeze", "Ngozi", "Folake", "Abena", "Ama", "Efua", "Yetunde",
    "Ruth", "Esther", "Joy", "Precious", "Blessing", "Agnieszka", "Katarzyna",
    "Anna", "Maria", "Ioana", "Elena", "Ana", "Beatriz", "Julia", "Giulia",
    "Chiara", "Siobhan", "Niamh", "Aoife", "Margaret", "Patricia", "Susan",
    "Linda", "Barbara", "Elizabeth", "Jean", "Joan", "Dorothy", "Pauline",
    "Janet", "Christine", "Carol", "Sandra", "Denise", "Lorraine", "Yvonne",
    "Mei", "Xin", "Linh", "Thi", "Hana", "Yasmin", "Shanice", "Tanisha",
    "Keisha", "Marcia", "Beverley", "Hyacinth", "Gloria", "Doreen", "Irene",
    "Edith", "Mabel", "Winifred",
};
const size_t cr_synth_n_female_names =
    sizeof cr_synth_female_names / sizeof cr_synth_female_names[0];

const char *const cr_synth_male_names[] = {
    "Oliver", "George", "Noah", "Arthur", "Leo", "Harry", "Oscar", "Archie",
    "Henry", "Theo", "Jack", "Charlie", "Freddie", "Alfie", "Thomas", "James",
    "William", "Joshua", "Daniel", "Samuel", "Joseph", "Benjamin", "Adam",
    "Muhammad", "Mohammed", "Ibrahim", "Yusuf", "Omar", "Ali", "Hassan",
    "Bilal", "Zain", "Ayaan", "Arjun", "Rohan", "Vikram", "Rajesh", "Sanjay",
    "Ravi", "Amit", "Deepak", "Harpreet", "Gurpreet", "Chinedu", "Emeka",
    "Oluwaseun", "Tunde", "Kwame", "Kofi", "Kwabena", "Yaw", "Elijah",
    "Emmanuel", "Michael", "David", "John", "Paul", "Peter", "Mark", "Stephen",
    "Andrew", "Richard", "Robert", "Christopher", "Anthony", "Kevin", "Gary",
    "Lee", "Darren", "Wayne", "Dean", "Carl", "Jamal", "Tyrone", "Marcus",
    "Delroy", "Winston", "Clive", "Trevor", "Leroy", "Piotr", "Tomasz",
    "Krzysztof", "Andrei", "Mihai", "Ion", "Luca", "Marco", "Giovanni",
    "Pedro", "Joao", "Rui", "Diego", "Sean", "Patrick", "Liam", "Conor",
    "Ciaran", "Wei", "Jun", "Minh", "Duc", "Kenji", "Ronald", "Kenneth",
    "Dennis", "Albert", "Stanley", "Leonard", "Ernest", "Frederick", "Walter",
};
const size_t cr_synth_n_male_names =
    sizeof cr_synth_male_names / sizeof cr_synth_male_names[0];

const char *const cr_synth_surnames[] = {
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Wilson",
    "Evans", "Thomas", "Johnson", "Roberts", "Walker", "Wright", "Robinson",
    "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood",
    "Harris", "Lewis", "Martin", "Jackson", "Clarke", "Clark", "Turner",
    "Hill", "Scott", "Cooper", "Morris", "Ward", "Moore", "King", "Watson",
    "Baker", "Harrison", "Morgan", "Patel", "Young", "Allen", "Mitchell",
    "James", "Anderson", "Phillips", "Lee", "Bell", "Parker", "Davis",
    "Khan", "Ahmed", "Ali", "Hussain", "Begum", "Rahman", "Islam", "Miah",
    "Uddin", "Akhtar", "Iqbal", "Mahmood", "Shah", "Malik", "Singh", "Kaur",
    "Sharma", "Gupta", "Kumar", "Thakkar", "Mistry", "Desai", "Joshi", "Mehta",
    "Chauhan", "Pillai", "Nair", "Okafor", "Okonkwo", "Adeyemi", "Adebayo",
    "Oyelaran", "Balogun", "Eze", "Nwosu", "Mensah", "Owusu", "Asante",
    "Boateng", "Osei", "Appiah", "Danso", "Campbell", "Grant", "Francis",
    "Stewart", "Reid", "Murray", "Graham", "Henry", "Gordon", "Barnes",
    "Bailey", "Richards", "Forde", "Mohamed", "Abdi", "Hassan", "Warsame",
    "Yilmaz", "Demir", "Kaya", "Ozturk", "Nowak", "Kowalski", "Wisniewski",
    "Lewandowska", "Popescu", "Ionescu", "Rossi", "Russo", "Ferrari",
    "Silva", "Santos", "Pereira", "Ferreira", "Costa", "Rodrigues",
    "Garcia", "Fernandez", "Lopez", "Murphy", "Kelly", "O'Brien", "Byrne",
    "Ryan", "O'Connor", "Walsh", "McCarthy", "Doyle", "Nguyen", "Tran",
    "Le", "Pham", "Chen", "Wang", "Li", "Zhang", "Liu", "Wong", "Cohen",
    "Levy", "Goldberg", "Papadopoulos", "Georgiou", "Christodoulou",
    "Ibrahim", "Yusuf", "Bennett", "Carter", "Collins", "Cook", "Fisher",
    "Foster", "Gray", "Holmes", "Hunt", "Kennedy", "Marshall", "Mason",
    "Owen", "Palmer", "Pearson", "Price", "Rogers", "Russell", "Shaw",
    "Simpson", "Stevens", "Webb", "Wells", "West", "Butler", "Chapman",
    "Ellis", "Fox", "Knight", "Lloyd", "Matthews", "Powell", "Spencer",
};
const size_t cr_synth_n_surnames =
    sizeof cr_synth_surnames / sizeof cr_synth_surnames[0];

const char *const cr_synth_streets[] = {
    "High Street", "Church Road", "Station Road", "Park Road", "Victoria Road",
    "Green Lane", "Manor Road", "Church Street", "Park Avenue", "Kings Road",
    "Queens Road", "London Road", "Albert Road", "Grove Road", "Springfield Road",
    "The Avenue", "Mill Lane", "Richmond Road", "Windsor Road", "York Road",
    "Alexandra Road", "George Street", "Cedar Road", "Elm Grove", "Oak Avenue",
    "Chestnut Close", "Willow Way", "Beech Road", "Maple Close", "Holly Lane",
    "Stanley Road", "Clarence Road", "Cambridge Road", "Brunswick Road",
    "Wellington Road", "Nelson Road", "Trafalgar Street", "Burns Road",
    "Milton Road", "Shakespeare Road", "Tennyson Road", "Dickens Close",
    "Hamilton Road", "Gladstone Avenue", "Palmerston Road", "Cromwell Road",
    "Southfield Road", "Northfield Avenue", "Westbourne Grove", "Eastfield Road",
    "Meadow Way", "Orchard Close", "Riverside Walk", "Canal Way",
    "Market Street", "Chapel Street", "School Lane", "Hillside Road",
    "Crescent Road", "Fairfield Road", "Lansdowne Road", "Belmont Road",
    "Rosebery Avenue", "Carlton Road", "Osborne Road", "Salisbury Road",
};
const size_t cr_synth_n_streets =
    sizeof cr_synth_streets / sizeof cr_synth_streets[0];
